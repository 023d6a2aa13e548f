-- Neovim 0.12+: vim.lsp.inline_completion draws and accepts; this adds partial accept,
-- dismiss and the didShow/didPartiallyAccept notifications around it.
local api = vim.api
local util = require('smallcode.util')
local ic = vim.lsp.inline_completion

local M = {}

local function native_ns()
  return api.nvim_get_namespaces()['nvim.lsp.inline_completion']
end

--- True when native ghost text is drawn in the buffer.
function M.visible(bufnr)
  local ns = native_ns()
  return ns ~= nil and #api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { limit = 1 }) > 0
end

function M.attach(bufnr)
  ic.enable(true, { bufnr = bufnr })
end

function M.accept(bufnr)
  return ic.get({ bufnr = bufnr })
end

--- Converts the native item to the plugin's form.
---@return smallcode.Item|nil
local function to_item(bufnr, it)
  local text = type(it.insert_text) == 'string' and it.insert_text or it.insert_text.value
  local row, col = unpack(api.nvim_win_get_cursor(0))
  row = row - 1
  local item = { text = text, start_row = row, start_col = col, end_row = row, end_col = col,
    origin_col = 0, client_id = it.client_id,
    lsp = { insertText = text, command = it.command } }
  if it.range then
    item.start_row, item.start_col = unpack(it.range.start:to_extmark())
    item.end_row, item.end_col = unpack(it.range.end_:to_extmark())
    local client = vim.lsp.get_client_by_id(it.client_id)
    if client then
      item.lsp.range = it.range:to_lsp(client.offset_encoding)
    end
  end
  return item
end

--- Accepts part of the suggestion (`pick` is util.next_word or util.next_line).
function M.accept_part(bufnr, pick)
  if not M.visible(bufnr) then
    return false
  end
  return ic.get({
    bufnr = bufnr,
    on_accept = function(it)
      local item = to_item(bufnr, it)
      if not item then
        return
      end
      local row, col = unpack(api.nvim_win_get_cursor(0))
      local line = api.nvim_buf_get_lines(bufnr, row - 1, row, false)[1] or ''
      local rest, typed = util.remaining(item, line, row - 1, col)
      if not rest or rest == '' then
        return
      end
      local piece = pick(rest)
      util.insert_at_cursor(bufnr, piece)
      local client = vim.lsp.get_client_by_id(item.client_id)
      if client then
        util.notify(client, 'textDocument/didPartiallyAcceptCompletion', {
          item = item.lsp, acceptedLength = util.lsp_len(typed .. piece, client.offset_encoding),
        })
        if piece == rest then
          util.exec_command(client, item.lsp.command, bufnr)
        end
      end
    end,
  })
end

function M.dismiss(bufnr)
  -- get() with a no-op accept handler is the public way to drop the current item.
  return ic.get({ bufnr = bufnr, on_accept = function() end })
end

function M.cycle(bufnr, step)
  if not M.visible(bufnr) then
    return false
  end
  ic.select({ bufnr = bufnr, count = step })
  return true
end

function M.trigger(bufnr)
  -- The native completor requests on CursorMovedI; there is no public "request now".
  api.nvim_exec_autocmds('CursorMovedI', { buffer = bufnr, modeline = false })
end

function M.set_enabled(enabled)
  ic.enable(enabled)
end

return M
