-- Last `smallcode/statusChanged` payload per client.
local M = {}

---@type table<integer, table>
M.by_client = {}

---@param client_id integer
---@param payload table
function M.update(client_id, payload)
  M.by_client[client_id] = payload
  vim.api.nvim_exec_autocmds('User', { pattern = 'SmallcodeStatus', modeline = false, data = payload })
end

--- A short string for a statusline: "smallcode: ready 42 tok/s".
---@return string
function M.statusline()
  for _, s in pairs(M.by_client) do
    local text = 'smallcode: ' .. tostring(s.state)
    local last = type(s.last) == 'table' and s.last or nil
    if last and (last.generateMs or 0) > 0 and (last.generatedTokens or 0) > 0 then
      text = text .. (' %.0f tok/s'):format(last.generatedTokens * 1000 / last.generateMs)
    end
    return text
  end
  return ''
end

return M
