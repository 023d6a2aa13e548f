-- Tells the server where the cursor rests (smallcode/didMoveCursor), so it can prefill that
-- spot's prompt before the first keystroke there. Debounced: scrolling and held arrow keys
-- send one notification when they stop. Not on CursorMovedI: a keystroke sends its own request.
local api = vim.api
local util = require('smallcode.util')
local M = {}

M.debounce_ms = 100
local timers = {} ---@type table<integer, uv.uv_timer_t>

local function send(bufnr)
  if not api.nvim_buf_is_valid(bufnr) or api.nvim_get_current_buf() ~= bufnr then
    return
  end
  local client = util.client(bufnr)
  if not client then
    return
  end
  local row, col = unpack(api.nvim_win_get_cursor(0))
  local line = api.nvim_buf_get_lines(bufnr, row - 1, row, false)[1] or ''
  local encoding = client.offset_encoding or 'utf-16'
  util.notify(client, 'smallcode/didMoveCursor', {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = row - 1, character = util.lsp_len(line:sub(1, col), encoding) },
  })
end

local function schedule(bufnr)
  local timer = timers[bufnr]
  if not timer then
    timer = assert(vim.uv.new_timer())
    timers[bufnr] = timer
  end
  timer:stop()
  timer:start(M.debounce_ms, 0, vim.schedule_wrap(function()
    send(bufnr)
  end))
end

--- Starts the notifications for a buffer the smallcode client attached to.
function M.attach(bufnr)
  local group = api.nvim_create_augroup('smallcode.cursor.' .. bufnr, { clear = true })
  api.nvim_create_autocmd({ 'CursorMoved', 'InsertEnter', 'BufEnter', 'FocusGained' }, {
    group = group, buffer = bufnr, callback = function() schedule(bufnr) end,
  })
  api.nvim_create_autocmd({ 'BufWipeout', 'LspDetach' }, {
    group = group, buffer = bufnr, callback = function()
      local timer = timers[bufnr]
      if timer then
        timer:stop()
        timer:close()
        timers[bufnr] = nil
      end
      pcall(api.nvim_del_augroup_by_id, group)
    end,
  })
  schedule(bufnr)
end

return M
