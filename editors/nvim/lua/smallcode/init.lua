-- SmallCode for Neovim: `require('smallcode').setup{}`. See :help smallcode.
local api = vim.api
local util = require('smallcode.util')

local M = {}

---@type smallcode.Config|nil
M.config = nil
--- 'native' or 'extmark' once setup() ran.
---@type string|nil
M.backend_name = nil

local function backend()
  return require('smallcode.' .. (M.backend_name or 'extmark'))
end

local function pick_backend(choice)
  local has_native = vim.lsp.inline_completion ~= nil and vim.fn.has('nvim-0.12') == 1
  if choice == 'native' and not has_native then
    vim.notify('smallcode: backend "native" needs Neovim 0.12+; using extmarks', vim.log.levels.WARN)
    return 'extmark'
  end
  if choice == 'auto' then
    return has_native and 'native' or 'extmark'
  end
  return choice
end

--- True when a suggestion is shown in the current buffer.
function M.visible()
  local bufnr = api.nvim_get_current_buf()
  if M.backend_name == 'native' then
    return require('smallcode.native').visible(bufnr)
  end
  return require('smallcode.extmark').visible_text(bufnr) ~= nil
end

function M.accept()
  return backend().accept(api.nvim_get_current_buf())
end

function M.accept_word()
  return backend().accept_part(api.nvim_get_current_buf(), util.next_word)
end

function M.accept_line()
  return backend().accept_part(api.nvim_get_current_buf(), util.next_line)
end

function M.dismiss()
  return backend().dismiss(api.nvim_get_current_buf())
end

function M.next()
  return backend().cycle(api.nvim_get_current_buf(), 1)
end

function M.prev()
  return backend().cycle(api.nvim_get_current_buf(), -1)
end

function M.trigger()
  return backend().trigger(api.nvim_get_current_buf())
end

--- True when a next-edit suggestion is shown in the current buffer.
function M.next_edit_visible()
  return require('smallcode.nextedit').visible(api.nvim_get_current_buf())
end

function M.accept_next_edit()
  return require('smallcode.nextedit').accept(api.nvim_get_current_buf())
end

function M.dismiss_next_edit()
  return require('smallcode.nextedit').dismiss(api.nvim_get_current_buf())
end

--- Next edits follow `enable` and `nextEdit`; their debounce is the server's `nextEditDebounceMs`.
local function configure_next_edit()
  local nextedit, server = require('smallcode.nextedit'), M.config.server
  nextedit.debounce_ms = server.nextEditDebounceMs or 150
  nextedit.set_enabled(server.enable ~= false and server.nextEdit ~= false)
end

--- Sends the current settings to every running smallcode client.
local function push_settings()
  for _, client in ipairs(vim.lsp.get_clients({ name = 'smallcode' })) do
    client.settings = vim.tbl_deep_extend('force', client.settings or {}, { smallcode = M.config.server })
    util.notify(client, 'workspace/didChangeConfiguration', { settings = { smallcode = M.config.server } })
  end
end

--- Turns completions on or off (client side and the server's `enable`).
---@param enabled boolean|nil nil toggles
function M.toggle(enabled)
  if enabled == nil then
    enabled = M.config.server.enable == false
  end
  M.config.server.enable = enabled
  backend().set_enabled(enabled)
  configure_next_edit()
  push_settings()
  vim.notify('smallcode: ' .. (enabled and 'enabled' or 'disabled'))
end

--- Updates server settings at runtime, e.g. set{ maxTokens = 32 }.
function M.set(settings)
  M.config = require('smallcode.config').resolve(vim.tbl_deep_extend('force', M.config, { server = settings }))
  configure_next_edit()
  push_settings()
end

function M.status()
  local client = util.client(api.nvim_get_current_buf()) or vim.lsp.get_clients({ name = 'smallcode' })[1]
  if not client then
    vim.notify('smallcode: no server running (see :checkhealth smallcode)', vim.log.levels.WARN)
    return
  end
  util.request(client, 'smallcode/status', vim.empty_dict(), function(err, result)
    if err then
      vim.notify('smallcode: ' .. tostring(err.message))
      return
    end
    vim.notify(require('smallcode.status').describe(result) .. '\n' .. vim.inspect(result))
  end)
end

--- Stops the smallcode clients and, once they are gone, starts them again for loaded buffers.
function M.restart()
  for _, client in ipairs(vim.lsp.get_clients({ name = 'smallcode' })) do
    if util.has_011 then client:stop() else client.stop() end
  end
  local tries = 0
  local timer = assert(vim.uv.new_timer())
  timer:start(100, 100, vim.schedule_wrap(function()
    tries = tries + 1
    if #vim.lsp.get_clients({ name = 'smallcode' }) > 0 and tries < 100 then
      return
    end
    timer:stop()
    timer:close()
    local group = vim.lsp.config and 'nvim.lsp.enable' or 'smallcode.start'
    vim.cmd('silent! doautoall ' .. group .. ' FileType')
  end))
end

M.statusline = function()
  return require('smallcode.status').statusline()
end

local actions = {
  toggle = function() M.toggle() end,
  enable = function() M.toggle(true) end,
  disable = function() M.toggle(false) end,
  status = M.status,
  restart = function() M.restart() end,
  next_edit = function() require('smallcode.nextedit').request(api.nvim_get_current_buf()) end,
  log = function() vim.cmd('edit ' .. vim.fn.fnameescape(vim.lsp.get_log_path())) end,
}

local function set_keymaps(keys)
  -- Each map acts only while what it acts on is shown; otherwise the key does what it did
  -- before. Actions sharing a key (<Tab>) are tried in order: the ghost text first.
  local maps, order = {}, {}
  local function add(mode, lhs, shown, fn, desc)
    if not lhs then
      return
    end
    local key = mode .. lhs
    if not maps[key] then
      maps[key] = { mode = mode, lhs = lhs, actions = {} }
      order[#order + 1] = key
    end
    table.insert(maps[key].actions, { shown = shown, fn = fn, desc = desc })
  end
  add('i', keys.accept, M.visible, M.accept, 'accept suggestion')
  add('i', keys.accept_word, M.visible, M.accept_word, 'accept next word')
  add('i', keys.accept_line, M.visible, M.accept_line, 'accept line')
  add('i', keys.dismiss, M.visible, M.dismiss, 'dismiss suggestion')
  for _, mode in ipairs({ 'i', 'n' }) do
    add(mode, keys.accept_next_edit, M.next_edit_visible, M.accept_next_edit, 'accept next edit')
  end
  add('n', keys.dismiss_next_edit, M.next_edit_visible, M.dismiss_next_edit, 'dismiss next edit')
  for _, key in ipairs(order) do
    local m = maps[key]
    local descs = vim.tbl_map(function(a) return a.desc end, m.actions)
    vim.keymap.set(m.mode, m.lhs, function()
      for _, action in ipairs(m.actions) do
        if action.shown() then
          vim.schedule(action.fn)
          return ''
        end
      end
      return api.nvim_replace_termcodes(m.lhs, true, false, true)
    end, { expr = true, replace_keycodes = false, desc = 'smallcode: ' .. table.concat(descs, ', ') })
  end
  if keys.next then
    vim.keymap.set('i', keys.next, function() M.next() end, { desc = 'smallcode: next suggestion' })
  end
  if keys.prev then
    vim.keymap.set('i', keys.prev, function() M.prev() end, { desc = 'smallcode: previous suggestion' })
  end
  if keys.trigger then
    vim.keymap.set('i', keys.trigger, function() M.trigger() end, { desc = 'smallcode: suggest now' })
  end
end

--- Neovim 0.10 has no vim.lsp.config: start the client per buffer.
local function start_legacy(lsp_cfg)
  local base = dofile(api.nvim_get_runtime_file('lsp/smallcode.lua', false)[1])
  local cfg = vim.tbl_deep_extend('force', base, lsp_cfg, { name = 'smallcode' })
  api.nvim_create_autocmd('FileType', {
    group = api.nvim_create_augroup('smallcode.start', { clear = true }),
    callback = function(ev)
      local name = api.nvim_buf_get_name(ev.buf)
      if vim.bo[ev.buf].buftype ~= '' or name == '' or (cfg.filetypes and not vim.tbl_contains(cfg.filetypes, ev.match)) then
        return
      end
      local start = vim.deepcopy(cfg)
      start.root_dir = vim.fs.root(ev.buf, { '.git' }) or vim.fn.getcwd()
      vim.lsp.start(start, { bufnr = ev.buf })
    end,
  })
end

--- Configures and enables the smallcode client. Safe to call more than once.
---@param opts smallcode.Config|nil
function M.setup(opts)
  if vim.fn.has('nvim-0.10') == 0 then
    vim.notify('smallcode needs Neovim 0.10 or newer', vim.log.levels.ERROR)
    return
  end
  M.config = require('smallcode.config').resolve(opts)
  M.backend_name = pick_backend(M.config.backend)
  require('smallcode.extmark').debounce_ms = M.config.debounce_ms
  configure_next_edit()
  api.nvim_set_hl(0, 'SmallcodeGhost', { link = 'Comment', default = true })
  api.nvim_set_hl(0, 'SmallcodeGhostMore', { link = 'NonText', default = true })
  -- DiffDelete's colours, struck through: a link could not add the strikethrough.
  local delete = api.nvim_get_hl(0, { name = 'DiffDelete', link = false })
  delete = vim.tbl_extend('force', delete, { strikethrough = true, default = true })
  api.nvim_set_hl(0, 'SmallcodeNextEditDelete', delete)
  api.nvim_set_hl(0, 'SmallcodeNextEditInsert', { link = 'DiffAdd', default = true })
  api.nvim_set_hl(0, 'SmallcodeNextEditHint', { link = 'Comment', default = true })

  local lsp_cfg = { init_options = M.config.server, settings = { smallcode = M.config.server } }
  lsp_cfg.cmd = M.config.cmd
  lsp_cfg.filetypes = M.config.filetypes
  if vim.lsp.config then
    vim.lsp.config('smallcode', lsp_cfg)
    vim.lsp.enable('smallcode')
  else
    start_legacy(lsp_cfg)
  end

  local group = api.nvim_create_augroup('smallcode', { clear = true })
  api.nvim_create_autocmd('LspAttach', {
    group = group,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == 'smallcode' then
        backend().attach(ev.buf)
        require('smallcode.cursor').attach(ev.buf)
        require('smallcode.nextedit').attach(ev.buf)
        if M.config.server.enable == false then
          backend().set_enabled(false)
        end
      end
    end,
  })
  set_keymaps(M.config.keymaps)
  api.nvim_create_user_command('Smallcode', function(cmd)
    local action = actions[cmd.args ~= '' and cmd.args or 'status']
    if not action then
      vim.notify('smallcode: unknown action ' .. cmd.args, vim.log.levels.ERROR)
      return
    end
    action()
  end, {
    nargs = '?',
    complete = function()
      return vim.tbl_keys(actions)
    end,
    desc = 'SmallCode: toggle | enable | disable | status | restart | log | next_edit',
  })
end

return M
