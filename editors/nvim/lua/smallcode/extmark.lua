-- Ghost text for Neovim 0.10/0.11 (and `backend = 'extmark'`): requests
-- textDocument/inlineCompletion itself and draws the suggestion with extmarks.
local api = vim.api
local util = require('smallcode.util')

local M = {}

M.ns = api.nvim_create_namespace('smallcode.ghost')
M.debounce_ms = 150
M.enabled = true

local AUTOMATIC, INVOKED = 2, 1

---@class smallcode.BufState
---@field timer uv.uv_timer_t|nil
---@field pending { client: vim.lsp.Client, id: integer }|nil
---@field items smallcode.Item[]
---@field index integer
---@field invoked boolean items came from an Invoked request
---@field shown table<table, boolean> items already reported with didShowCompletion

---@type table<integer, smallcode.BufState>
local state = {}

local function st(bufnr)
  state[bufnr] = state[bufnr] or { items = {}, index = 1, invoked = false, shown = {} }
  return state[bufnr]
end

local function cursor()
  local c = api.nvim_win_get_cursor(0)
  return c[1] - 1, c[2]
end

function M.hide(bufnr)
  api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
end

--- Hides the suggestion and forgets it; cancels the timer and any request in flight.
function M.clear(bufnr)
  local s = st(bufnr)
  util.stop_timer(s)
  util.cancel_pending(s)
  s.items, s.index, s.invoked = {}, 1, false
  M.hide(bufnr)
end

---@return smallcode.Item|nil, string|nil rest
local function current(bufnr)
  local s = st(bufnr)
  local item = s.items[s.index]
  if not item or api.nvim_get_current_buf() ~= bufnr then
    return nil, nil
  end
  local row, col = cursor()
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  local rest = util.remaining(item, line, row, col)
  if not rest or rest == '' then
    return nil, nil
  end
  return item, rest
end

--- The text the suggestion would insert at the cursor, or nil.
function M.visible_text(bufnr)
  local _, rest = current(bufnr or api.nvim_get_current_buf())
  return rest
end

local function render(bufnr)
  M.hide(bufnr)
  local item, rest = current(bufnr)
  if not item or not rest then
    return false
  end
  local s = st(bufnr)
  local lines = vim.split(rest, '\n', { plain = true })
  local virt_lines = {}
  for i = 2, #lines do
    virt_lines[#virt_lines + 1] = { { lines[i], 'SmallcodeGhost' } }
  end
  local row, col = cursor()
  local opts = { hl_mode = 'combine', virt_lines = #virt_lines > 0 and virt_lines or nil }
  local chunks = {}
  if lines[1] ~= '' then
    chunks[1] = { lines[1], 'SmallcodeGhost' }
  end
  if #s.items > 1 then
    chunks[#chunks + 1] = { (' (%d/%d)'):format(s.index, #s.items), 'SmallcodeGhostMore' }
  end
  if #chunks > 0 then
    opts.virt_text = chunks
    opts.virt_text_pos = 'inline'
  end
  api.nvim_buf_set_extmark(bufnr, M.ns, row, col, opts)
  if not s.shown[item.lsp] then
    s.shown[item.lsp] = true
    local client = vim.lsp.get_client_by_id(item.client_id)
    if client then
      util.notify(client, 'textDocument/didShowCompletion', { item = item.lsp })
    end
  end
  return true
end

---@param client vim.lsp.Client
---@param bufnr integer
---@param result table|nil
---@param origin_col integer
---@return smallcode.Item[]
local function to_items(client, bufnr, result, row, origin_col)
  local out = {}
  local raw = result and (result.items or result) or {}
  for _, it in ipairs(raw) do
    local text = type(it.insertText) == 'table' and it.insertText.value or it.insertText
    if type(text) == 'string' and text ~= '' then
      local item = { text = text, start_row = row, start_col = origin_col, end_row = row,
        end_col = origin_col, origin_col = origin_col, lsp = it, client_id = client.id }
      if it.range then
        local enc = client.offset_encoding
        local sl = api.nvim_buf_get_lines(bufnr, it.range.start.line, it.range.start.line + 1, false)[1] or ''
        local el = api.nvim_buf_get_lines(bufnr, it.range['end'].line, it.range['end'].line + 1, false)[1] or ''
        item.start_row, item.start_col = it.range.start.line, util.byte_col(sl, it.range.start.character, enc)
        item.end_row, item.end_col = it.range['end'].line, util.byte_col(el, it.range['end'].character, enc)
      end
      out[#out + 1] = item
    end
  end
  return out
end

--- Sends one request for the cursor position; stale answers are dropped.
---@param bufnr integer
---@param kind integer triggerKind
---@param on_done fun()|nil
function M.request(bufnr, kind, on_done)
  local s = st(bufnr)
  local client = util.client(bufnr)
  if not client or not M.enabled then
    return
  end
  util.cancel_pending(s)
  local win = api.nvim_get_current_win()
  local params = vim.lsp.util.make_position_params(win, client.offset_encoding)
  params.context = { triggerKind = kind }
  local tick = api.nvim_buf_get_changedtick(bufnr)
  local row, col = cursor()
  local ok, id
  ok, id = util.request(client, 'textDocument/inlineCompletion', params, function(err, result)
    if s.pending and s.pending.id == id then
      s.pending = nil
    end
    local r2, c2 = cursor()
    if err or api.nvim_get_current_buf() ~= bufnr or api.nvim_buf_get_changedtick(bufnr) ~= tick
      or r2 ~= row or c2 ~= col or not api.nvim_get_mode().mode:match('^i') then
      return
    end
    s.items, s.index, s.invoked = to_items(client, bufnr, result, row, col), 1, kind == INVOKED
    render(bufnr)
    if on_done then
      on_done()
    end
  end, bufnr)
  if ok and id then
    s.pending = { client = client, id = id }
  end
end

--- After a keystroke: keep a suggestion the user is typing through, else debounce a new request.
function M.on_change(bufnr)
  local s = st(bufnr)
  if render(bufnr) then
    return
  end
  s.items, s.index = {}, 1
  util.cancel_pending(s)
  util.stop_timer(s)
  if not M.enabled then
    return
  end
  s.timer = vim.defer_fn(function()
    s.timer = nil
    if api.nvim_get_current_buf() == bufnr and api.nvim_get_mode().mode:match('^i') then
      M.request(bufnr, AUTOMATIC)
    end
  end, M.debounce_ms)
end

--- Starts ghost text in a buffer the smallcode client attached to.
function M.attach(bufnr)
  local group = api.nvim_create_augroup('smallcode.ghost.' .. bufnr, { clear = true })
  api.nvim_create_autocmd({ 'InsertEnter', 'TextChangedI', 'CursorMovedI' }, {
    group = group, buffer = bufnr, callback = function() M.on_change(bufnr) end,
  })
  api.nvim_create_autocmd({ 'InsertLeave', 'BufLeave' }, {
    group = group, buffer = bufnr, callback = function() M.clear(bufnr) end,
  })
  api.nvim_create_autocmd({ 'BufWipeout', 'LspDetach' }, {
    group = group, buffer = bufnr, callback = function(ev)
      if ev.event == 'LspDetach' and ev.data and ev.data.client_id then
        local c = vim.lsp.get_client_by_id(ev.data.client_id)
        if c and c.name ~= 'smallcode' then
          return
        end
      end
      M.clear(bufnr)
      state[bufnr] = nil
      pcall(api.nvim_del_augroup_by_id, group)
    end,
  })
  if api.nvim_get_mode().mode:match('^i') and api.nvim_get_current_buf() == bufnr then
    M.on_change(bufnr)
  end
end

--- Accepts the whole suggestion; false when none is shown.
function M.accept(bufnr)
  local item = current(bufnr)
  if not item then
    return false
  end
  local client = vim.lsp.get_client_by_id(item.client_id)
  local lines = vim.split(item.text, '\n', { plain = true })
  -- The range may end past the cursor (text the suggestion replaces); never before it.
  local row, col = cursor()
  local end_row, end_col = item.end_row, math.max(item.end_col, row == item.end_row and col or 0)
  M.clear(bufnr)
  api.nvim_buf_set_text(bufnr, item.start_row, item.start_col, end_row, end_col, lines)
  api.nvim_win_set_cursor(0, { item.start_row + #lines, (#lines == 1 and item.start_col or 0) + #lines[#lines] })
  if client then
    util.exec_command(client, item.lsp.command, bufnr)
  end
  return true
end

--- Accepts the next word (`pick = util.next_word`) or line (`util.next_line`).
---@param pick fun(rest: string): string
function M.accept_part(bufnr, pick)
  local item, rest = current(bufnr)
  if not item or not rest then
    return false
  end
  local piece = pick(rest)
  local row, col = cursor()
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  local typed = line:sub(item.start_col + 1, col)
  util.insert_at_cursor(bufnr, piece)
  local client = vim.lsp.get_client_by_id(item.client_id)
  if client then
    util.notify(client, 'textDocument/didPartiallyAcceptCompletion', {
      item = item.lsp, acceptedLength = util.lsp_len(typed .. piece, client.offset_encoding),
    })
  end
  if piece == rest then
    -- Everything is in now: this counts as an accept.
    M.clear(bufnr)
    if client then
      util.exec_command(client, item.lsp.command, bufnr)
    end
  else
    render(bufnr)
  end
  return true
end

function M.dismiss(bufnr)
  local shown = current(bufnr) ~= nil
  M.clear(bufnr)
  return shown
end

--- Cycles suggestions; the first move asks the server for alternatives (Invoked).
function M.cycle(bufnr, step)
  local s = st(bufnr)
  if not s.invoked then
    M.request(bufnr, INVOKED, function()
      local n = #st(bufnr).items
      if n > 1 then
        st(bufnr).index = ((step > 0 and 2 or n) - 1) % n + 1
        render(bufnr)
      end
    end)
    return true
  end
  local n = #s.items
  if n == 0 then
    return false
  end
  s.index = (s.index - 1 + step) % n + 1
  render(bufnr)
  return true
end

function M.trigger(bufnr)
  M.request(bufnr, INVOKED)
end

function M.set_enabled(enabled)
  M.enabled = enabled
  if not enabled then
    for bufnr in pairs(state) do
      if api.nvim_buf_is_valid(bufnr) then
        M.clear(bufnr)
      end
    end
  end
end

return M
