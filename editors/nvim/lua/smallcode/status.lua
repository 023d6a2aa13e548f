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

--- Where the model runs, from a status payload: "local", "remote http://gpu:8080", or nil
--- (a server that does not say).
---@param s table
---@param with_url boolean?
---@return string?
function M.engine(s, with_url)
  if s.engine == 'remote' then
    return (with_url and type(s.engineUrl) == 'string') and ('remote ' .. s.engineUrl) or 'remote'
  end
  return s.engine == 'local' and 'local' or nil
end

--- One line for `:Smallcode status`: "smallcode: ready (remote http://gpu:8080), model gemma".
---@param s table
---@return string
function M.describe(s)
  local engine = M.engine(s, true)
  local text = 'smallcode: ' .. tostring(s.state) .. (engine and (' (' .. engine .. ')') or '')
  if type(s.model) == 'string' then
    text = text .. ', model ' .. vim.fs.basename(s.model)
  end
  return text
end

--- A short string for a statusline: "smallcode: ready (local) 42 tok/s".
---@return string
function M.statusline()
  for _, s in pairs(M.by_client) do
    local engine = M.engine(s)
    local text = 'smallcode: ' .. tostring(s.state) .. (engine and (' (' .. engine .. ')') or '')
    local last = type(s.last) == 'table' and s.last or nil
    if last and (last.generateMs or 0) > 0 and (last.generatedTokens or 0) > 0 then
      text = text .. (' %.0f tok/s'):format(last.generatedTokens * 1000 / last.generateMs)
    end
    return text
  end
  return ''
end

return M
