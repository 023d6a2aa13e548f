-- Version-independent helpers (Neovim 0.10 .. 0.12) and the suggestion text math.
local api = vim.api
local M = {}

M.has_011 = vim.fn.has('nvim-0.11') == 1

--- The attached smallcode client of a buffer, if any.
---@param bufnr integer
---@return vim.lsp.Client|nil
function M.client(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr, name = 'smallcode' })[1]
end

--- client:request on 0.11+, client.request on 0.10.
---@return boolean ok, integer|nil request_id
function M.request(client, method, params, handler, bufnr)
  if M.has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

function M.notify(client, method, params)
  if M.has_011 then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

function M.cancel(client, id)
  if M.has_011 then
    return client:cancel_request(id)
  end
  return client.cancel_request(id)
end

--- Stops and closes a state's debounce timer (`s.timer`), if any.
function M.stop_timer(s)
  if s.timer then
    s.timer:stop()
    if not s.timer:is_closing() then
      s.timer:close()
    end
    s.timer = nil
  end
end

--- Cancels a state's request in flight (`s.pending = {client, id}`), if any.
function M.cancel_pending(s)
  if s.pending then
    M.cancel(s.pending.client, s.pending.id)
    s.pending = nil
  end
end

--- LSP character (in the client's encoding) -> byte column of `line`.
---@param line string
---@param character integer
---@param encoding string
---@return integer
function M.byte_col(line, character, encoding)
  if encoding == 'utf-8' then
    return math.min(character, #line)
  end
  local ok, col
  if M.has_011 then
    ok, col = pcall(vim.str_byteindex, line, encoding, character, false)
  else
    ok, col = pcall(vim.str_byteindex, line, character, encoding == 'utf-16')
  end
  return ok and col or #line
end

--- Length of `s` in `encoding` units (what LSP counts).
function M.lsp_len(s, encoding)
  if encoding == 'utf-8' then
    return #s
  end
  if M.has_011 then
    return vim.str_utfindex(s, encoding)
  end
  local utf32, utf16 = vim.str_utfindex(s)
  return encoding == 'utf-16' and utf16 or utf32
end

---@class smallcode.Item
---@field text string Replaces [start_row, start_col) .. [end_row, end_col) (0-based bytes)
---@field start_row integer
---@field start_col integer
---@field end_row integer
---@field end_col integer
---@field origin_col integer Cursor column when the item was requested
---@field lsp table The server's item, for notifications
---@field client_id integer

--- Text of the item that is not yet in the buffer, given the cursor (0-based row, byte col);
--- nil when the buffer no longer matches the item.
---@param item smallcode.Item
---@param line string current line
---@param row integer
---@param col integer
---@return string|nil rest, string typed
function M.remaining(item, line, row, col)
  if row ~= item.start_row or col < item.start_col or col < item.origin_col then
    return nil, ''
  end
  local typed = line:sub(item.start_col + 1, col)
  if item.text:sub(1, #typed) ~= typed then
    return nil, typed
  end
  return item.text:sub(#typed + 1), typed
end

--- The next word of `rest`, VS Code's acceptNextWord style: spaces plus a word or a run of
--- punctuation; a line break plus the next line's indentation.
---@param rest string
---@return string
function M.next_word(rest)
  return rest:match('^\n[ \t]*') or rest:match('^[ \t]*[%w_]+') or rest:match('^[ \t]*[^%w_%s]+')
    or rest:match('^[ \t]+') or rest:sub(1, 1)
end

--- Up to the end of the current line; on a line break, the break plus the next line.
---@param rest string
---@return string
function M.next_line(rest)
  if rest:sub(1, 1) == '\n' then
    return '\n' .. (rest:match('^\n([^\n]*)') or '')
  end
  return rest:match('^[^\n]*')
end

--- Inserts `text` at the cursor and leaves the cursor after it.
---@param bufnr integer
---@param text string
function M.insert_at_cursor(bufnr, text)
  local win = api.nvim_get_current_win()
  local cur = api.nvim_win_get_cursor(win)
  local row, col = cur[1] - 1, cur[2]
  local lines = vim.split(text, '\n', { plain = true })
  api.nvim_buf_set_text(bufnr, row, col, row, col, lines)
  local last_row = row + #lines - 1
  local last_col = (#lines == 1 and col or 0) + #lines[#lines]
  api.nvim_win_set_cursor(win, { last_row + 1, last_col })
end

--- Runs the item's command (smallcode.accepted) through workspace/executeCommand.
---@param client vim.lsp.Client
---@param command table|nil
---@param bufnr integer
function M.exec_command(client, command, bufnr)
  if not command then
    return
  end
  if M.has_011 then
    client:exec_cmd(command, { bufnr = bufnr })
  else
    M.request(client, 'workspace/executeCommand', command, function() end, bufnr)
  end
end

return M
