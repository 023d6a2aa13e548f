-- Next-edit suggestions: after the text changes, asks `textDocument/copilotInlineEdit` and
-- previews the server's edit (often away from the cursor) with extmarks: the text it deletes
-- struck through, the text it inserts as virtual text. Both backends, Neovim 0.10 .. 0.12.
local api = vim.api
local util = require('smallcode.util')

local M = {}

M.ns = api.nvim_create_namespace('smallcode_nextedit')
M.debounce_ms = 150
M.enabled = true

--- The edit is dropped on the MOVES-th cursor move that does not bring the cursor closer.
local MOVES = 3

---@class smallcode.NextEdit
---@field start_row integer 0-based; the range is in bytes, replaced by `text`
---@field start_col integer
---@field end_row integer
---@field end_col integer
---@field text string
---@field lsp table The server's edit (range, textDocument, command)
---@field client_id integer

---@class smallcode.NextEditState
---@field timer uv.uv_timer_t|nil
---@field pending { client: vim.lsp.Client, id: integer }|nil
---@field edit smallcode.NextEdit|nil the edit shown
---@field moves integer cursor moves away from it so far
---@field distance integer rows between the cursor and it at the last move
---@field hint integer|nil extmark id of the jump hint

---@type table<integer, smallcode.NextEditState>
local state = {}

local function st(bufnr)
  state[bufnr] = state[bufnr] or { moves = 0, distance = 0 }
  return state[bufnr]
end

--- The LSP document version of a buffer as the client sends it (changedtick-based on 0.11+).
---@return integer|nil
function M.version(bufnr)
  return vim.lsp.util.buf_versions[bufnr]
end

-- Pure helpers: an edit and buffer lines in, positions and extmarks out (unit-tested headlessly).

--- An LSP range in 0-based byte positions; `first` and `last` are the buffer lines it starts
--- and ends on.
---@return integer start_row, integer start_col, integer end_row, integer end_col
function M.byte_range(range, first, last, encoding)
  local s, e = range.start, range['end']
  return s.line, util.byte_col(first, s.character, encoding),
    e.line, util.byte_col(last, e.character, encoding)
end

--- Where the new text ends once applied (0-based row, byte column after its last character).
---@param edit smallcode.NextEdit
---@return integer row, integer col
function M.end_position(edit)
  local lines = vim.split(edit.text, '\n', { plain = true })
  if #lines == 1 then
    return edit.start_row, edit.start_col + #edit.text
  end
  return edit.start_row + #lines - 1, #lines[#lines]
end

--- True when the edit only inserts, at (row, col): what inline completion already offers.
function M.is_insertion_at(edit, row, col)
  return edit.start_row == row and edit.end_row == row and edit.start_col == col and edit.end_col == col
end

---@class smallcode.Mark
---@field row integer
---@field col integer
---@field opts table nvim_buf_set_extmark options

--- The extmarks that preview `edit`; `old` holds the buffer lines start_row .. end_row.
---@param edit smallcode.NextEdit
---@param old string[]
---@return smallcode.Mark[]
function M.preview(edit, old)
  local marks = {}
  local deletes = edit.start_row ~= edit.end_row or edit.start_col ~= edit.end_col
  if deletes then
    marks[#marks + 1] = { row = edit.start_row, col = edit.start_col, opts = {
      end_row = edit.end_row, end_col = edit.end_col, hl_group = 'SmallcodeNextEditDelete' } }
  end
  if edit.text == '' then
    return marks
  end
  local new = vim.split(edit.text, '\n', { plain = true })
  if #new == 1 then
    -- One line of new text: right after the text it replaces, as if already typed there.
    marks[#marks + 1] = { row = edit.end_row, col = edit.end_col, opts = {
      virt_text = { { edit.text, 'SmallcodeNextEditInsert' } }, virt_text_pos = 'inline' } }
    return marks
  end
  local lines, row, above = M.new_lines(edit, old, new, deletes)
  local virt = {}
  for i, line in ipairs(lines) do
    virt[i] = { { line, 'SmallcodeNextEditInsert' } }
  end
  marks[#marks + 1] = { row = row, col = 0, opts = { virt_lines = virt, virt_lines_above = above } }
  return marks
end

--- Lines of a multi-line edit as virt_lines, and where: a plain insertion of whole lines
--- shows just those lines where they go; anything else shows the edited lines as they
--- will read, below the struck-through old ones.
---@return string[] lines, integer row, boolean above
function M.new_lines(edit, old, new, deletes)
  if #old == 0 then
    -- Past the last line: below it.
    return vim.list_slice(new, 1, new[#new] == '' and #new - 1 or #new), edit.start_row - 1, false
  end
  local first, last = old[1], old[#old]
  if not deletes and edit.start_col == 0 and new[#new] == '' then
    return vim.list_slice(new, 1, #new - 1), edit.start_row, true
  end
  if not deletes and edit.start_col == #first and new[1] == '' then
    return vim.list_slice(new, 2), edit.start_row, false
  end
  local lines = vim.deepcopy(new)
  lines[1] = first:sub(1, edit.start_col) .. lines[1]
  lines[#lines] = lines[#lines] .. last:sub(edit.end_col + 1)
  return lines, edit.end_row, false
end

--- The jump hint's text when the edit's row is outside the window's rows top .. bottom
--- (0-based), else nil.
---@return string|nil
function M.hint(edit, top, bottom)
  if edit.start_row >= top and edit.start_row <= bottom then
    return nil
  end
  return ('⇥ next edit: line %d'):format(edit.start_row + 1)
end

-- Buffer state and rendering.

--- Forgets the edit shown (no notification: it went stale or was replaced).
local function hide(bufnr)
  local s = st(bufnr)
  s.edit, s.hint, s.moves = nil, nil, 0
  if api.nvim_buf_is_valid(bufnr) then
    api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
end

--- The edit shown in `bufnr`, while the buffer is still at the version it was made for.
---@return smallcode.NextEdit|nil
local function current(bufnr)
  local edit = st(bufnr).edit
  if edit and edit.lsp.textDocument.version == M.version(bufnr) then
    return edit
  end
  return nil
end

local function cursor_row()
  return api.nvim_win_get_cursor(0)[1] - 1
end

--- Draws or moves the jump hint: at the cursor's line while the edit is off screen.
local function update_hint(bufnr)
  local s = st(bufnr)
  if s.hint then
    api.nvim_buf_del_extmark(bufnr, M.ns, s.hint)
    s.hint = nil
  end
  if not s.edit or api.nvim_get_current_buf() ~= bufnr then
    return
  end
  local text = M.hint(s.edit, vim.fn.line('w0') - 1, vim.fn.line('w$') - 1)
  if text then
    s.hint = api.nvim_buf_set_extmark(bufnr, M.ns, cursor_row(), 0, {
      virt_text = { { text, 'SmallcodeNextEditHint' } }, virt_text_pos = 'eol' })
  end
end

---@param edit smallcode.NextEdit
local function show(bufnr, edit)
  hide(bufnr)
  local old = api.nvim_buf_get_lines(bufnr, edit.start_row, edit.end_row + 1, false)
  for _, mark in ipairs(M.preview(edit, old)) do
    -- strict = false: a range may end at the end of the document, past the last line.
    local opts = vim.tbl_extend('force', mark.opts, { strict = false })
    api.nvim_buf_set_extmark(bufnr, M.ns, mark.row, mark.col, opts)
  end
  local s = st(bufnr)
  s.edit, s.moves, s.distance = edit, 0, math.abs(cursor_row() - edit.start_row)
  update_hint(bufnr)
  local client = vim.lsp.get_client_by_id(edit.client_id)
  if client then
    util.notify(client, 'textDocument/didShowInlineEdit', { item = { command = edit.lsp.command } })
  end
end

---@return smallcode.NextEdit|nil
local function to_edit(client, bufnr, raw)
  if type(raw) ~= 'table' or type(raw.text) ~= 'string' or type(raw.range) ~= 'table'
    or type(raw.textDocument) ~= 'table' then
    return nil
  end
  local s, e = raw.range.start.line, raw.range['end'].line
  local first = api.nvim_buf_get_lines(bufnr, s, s + 1, false)[1] or ''
  local last = api.nvim_buf_get_lines(bufnr, e, e + 1, false)[1] or ''
  local edit = { text = raw.text, lsp = raw, client_id = client.id }
  edit.start_row, edit.start_col, edit.end_row, edit.end_col =
    M.byte_range(raw.range, first, last, client.offset_encoding)
  return edit
end

--- Shows the first edit of an answer if it still fits the buffer.
local function on_result(client, bufnr, version, result)
  local raw = type(result) == 'table' and type(result.edits) == 'table' and result.edits[1] or nil
  if not raw or M.version(bufnr) ~= version or api.nvim_get_current_buf() ~= bufnr then
    return
  end
  local edit = to_edit(client, bufnr, raw)
  if not edit or edit.lsp.textDocument.version ~= version then
    return
  end
  local c = api.nvim_win_get_cursor(0)
  if api.nvim_get_mode().mode:match('^i') and M.is_insertion_at(edit, c[1] - 1, c[2]) then
    return -- the ghost text offers that
  end
  show(bufnr, edit)
end

--- Asks the server for the next edit at the cursor; an answer for an older version is dropped.
function M.request(bufnr)
  local s = st(bufnr)
  local client = util.client(bufnr)
  if not client or not M.enabled or api.nvim_get_current_buf() ~= bufnr then
    return
  end
  util.cancel_pending(s)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local version = M.version(bufnr)
  params.textDocument.version = version
  local ok, id
  ok, id = util.request(client, 'textDocument/copilotInlineEdit', params, function(err, result)
    if s.pending and s.pending.id == id then
      s.pending = nil
    end
    if not err then
      on_result(client, bufnr, version, result)
    end
  end, bufnr)
  if ok and id then
    s.pending = { client = client, id = id }
  end
end

--- After a change: the shown edit no longer applies; ask again once the changes pause.
--- (InsertLeave comes here too: typed-ahead keys may leave no TextChangedI. An edit that
--- still applies was made for this very text, so it stays.)
function M.on_change(bufnr)
  if current(bufnr) then
    return
  end
  local s = st(bufnr)
  hide(bufnr)
  util.cancel_pending(s)
  util.stop_timer(s)
  if not M.enabled then
    return
  end
  s.timer = vim.defer_fn(function()
    s.timer = nil
    M.request(bufnr)
  end, M.debounce_ms)
end

--- Counts moves away from the edit; the MOVES-th drops it. Moving towards it keeps it.
local function on_cursor(bufnr)
  local s = st(bufnr)
  if not s.edit then
    return
  end
  local distance = math.abs(cursor_row() - s.edit.start_row)
  if distance >= s.distance then
    s.moves = s.moves + 1
  end
  s.distance = distance
  if s.moves >= MOVES then
    hide(bufnr)
  else
    update_hint(bufnr)
  end
end

local function forget(bufnr)
  local s = st(bufnr)
  util.stop_timer(s)
  util.cancel_pending(s)
  hide(bufnr)
  state[bufnr] = nil
end

--- Starts next-edit suggestions in a buffer the smallcode client attached to.
function M.attach(bufnr)
  local group = api.nvim_create_augroup('smallcode.nextedit.' .. bufnr, { clear = true })
  api.nvim_create_autocmd({ 'TextChanged', 'TextChangedI', 'InsertLeave' }, {
    group = group, buffer = bufnr, callback = function() M.on_change(bufnr) end,
  })
  api.nvim_create_autocmd({ 'CursorMoved', 'CursorMovedI' }, {
    group = group, buffer = bufnr, callback = function() on_cursor(bufnr) end,
  })
  api.nvim_create_autocmd('WinScrolled', {
    group = group, buffer = bufnr, callback = function() update_hint(bufnr) end,
  })
  api.nvim_create_autocmd({ 'BufWipeout', 'LspDetach' }, {
    group = group, buffer = bufnr, callback = function(ev)
      if ev.event == 'LspDetach' and ev.data and ev.data.client_id then
        local c = vim.lsp.get_client_by_id(ev.data.client_id)
        if c and c.name ~= 'smallcode' then
          return
        end
      end
      forget(bufnr)
      pcall(api.nvim_del_augroup_by_id, group)
    end,
  })
end

--- True when a next edit is shown in the buffer and still applies.
function M.visible(bufnr)
  return current(bufnr) ~= nil
end

--- Where the cursor goes after an accept: after the new text in insert mode, on its last
--- character in normal mode (as after `cw`); on the range's start for a deletion.
local function cursor_after(edit)
  local row, col = M.end_position(edit)
  if edit.text ~= '' and not api.nvim_get_mode().mode:match('^i') then
    col = math.max(col - 1, 0)
  end
  return row, col
end

--- Applies the shown edit, jumps to its end (the old spot stays in the jumplist) and tells
--- the server; false when none is shown.
function M.accept(bufnr)
  local edit = current(bufnr)
  local client = edit and vim.lsp.get_client_by_id(edit.client_id)
  if not edit or not client then
    return false
  end
  hide(bufnr)
  vim.cmd("normal! m'")
  vim.lsp.util.apply_text_edits({ { range = edit.lsp.range, newText = edit.text } }, bufnr,
    client.offset_encoding)
  local row, col = cursor_after(edit)
  api.nvim_win_set_cursor(0, { row + 1, col })
  util.exec_command(client, edit.lsp.command, bufnr)
  return true
end

--- Hides the shown edit and tells the server the user turned it down; false when none is shown.
function M.dismiss(bufnr)
  local edit = current(bufnr)
  hide(bufnr)
  if not edit then
    return false
  end
  local client = vim.lsp.get_client_by_id(edit.client_id)
  if client then
    util.notify(client, 'smallcode/didRejectInlineEdit', { item = { command = edit.lsp.command } })
  end
  return true
end

--- Turns next edits on or off (off also drops what is shown or pending).
function M.set_enabled(enabled)
  M.enabled = enabled
  if not enabled then
    for bufnr in pairs(state) do
      local s = st(bufnr)
      util.stop_timer(s)
      util.cancel_pending(s)
      hide(bufnr)
    end
  end
end

return M
