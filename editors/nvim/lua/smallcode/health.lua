-- :checkhealth smallcode
local M = {}

local health = vim.health

local function server_cmd()
  local ok, cfg = pcall(function()
    return vim.lsp.config and vim.lsp.config.smallcode or nil
  end)
  local cmd = ok and cfg and cfg.cmd or nil
  if not cmd then
    local file = vim.api.nvim_get_runtime_file('lsp/smallcode.lua', false)[1]
    cmd = file and dofile(file).cmd or { 'smallcode-lsp', 'serve' }
  end
  return cmd
end

function M.check()
  health.start('smallcode')
  local v = vim.version()
  if vim.fn.has('nvim-0.12') == 1 and vim.lsp.inline_completion then
    health.ok(('Neovim %d.%d.%d: native vim.lsp.inline_completion'):format(v.major, v.minor, v.patch))
  elseif vim.fn.has('nvim-0.10') == 1 then
    health.ok(('Neovim %d.%d.%d: extmark ghost text'):format(v.major, v.minor, v.patch))
  else
    health.error('Neovim 0.10 or newer is required', { 'Upgrade Neovim' })
  end

  local sc = package.loaded['smallcode']
  if not sc or not sc.config then
    health.warn('setup() has not run', { "Add require('smallcode').setup{} to your config" })
  else
    health.ok('setup() ran; backend: ' .. tostring(sc.backend_name))
  end

  local cmd = server_cmd()
  if type(cmd) ~= 'table' then
    health.info('server cmd is a function; not checked')
  elseif vim.fn.executable(cmd[1]) == 1 then
    health.ok(('server found: %s'):format(vim.fn.exepath(cmd[1])))
  else
    health.error(('server not found: %s'):format(cmd[1]), {
      'pip install smallcode-lsp (then make sure its bin directory is on PATH)',
      "or set cmd = { '/path/to/venv/bin/smallcode-lsp', 'serve' } in setup{}",
    })
  end

  local model = sc and sc.config and sc.config.server.model
  if not model then
    health.ok('model: the embedded default (no server.model set)')
  elseif vim.fn.filereadable(vim.fn.expand(model)) == 1 then
    health.ok('model found: ' .. model)
  else
    health.error('model not found: ' .. model, { 'Fix server.model in setup{}, or remove it to use the embedded model' })
  end

  local clients = vim.lsp.get_clients({ name = 'smallcode' })
  if #clients == 0 then
    health.warn('no smallcode client running', { 'Open a file; check :lua vim.print(vim.lsp.get_log_path()) for start errors' })
    return
  end
  -- :checkhealth runs in its own buffer, so count the buffers each client serves.
  for _, client in ipairs(clients) do
    local n = vim.tbl_count(client.attached_buffers or {})
    if n > 0 then
      health.ok(('client %d attached to %d buffer(s), root %s'):format(client.id, n, tostring(client.root_dir)))
    else
      health.warn(('client %d is running but attached to no buffer'):format(client.id),
        { 'Check setup{ filetypes = ... } and server.disabledLanguages' })
    end
  end
  local client = clients[1]
  local ok, resp = pcall(function()
    if vim.fn.has('nvim-0.11') == 1 then
      return client:request_sync('smallcode/status', vim.empty_dict(), 2000)
    end
    return client.request_sync('smallcode/status', vim.empty_dict(), 2000)
  end)
  local status = ok and resp and resp.result or require('smallcode.status').by_client[client.id]
  if status then
    if status.state == 'error' then
      health.error('server error: ' .. tostring(status.error), { 'Check server.model and :Smallcode log' })
    else
      local engine = require('smallcode.status').engine(status, true)
      health.ok(('server state: %s, model: %s%s'):format(tostring(status.state), tostring(status.model),
        engine and (', engine: ' .. engine) or ''))
    end
  else
    health.info('no status from the server yet')
  end
end

return M
