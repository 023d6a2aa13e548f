---@class smallcode.Keymaps
---@field accept string|false Accept the whole suggestion (falls back to the key itself)
---@field accept_word string|false Accept the next word
---@field accept_line string|false Accept up to the end of the line
---@field dismiss string|false Hide the suggestion
---@field next string|false Next suggestion (asks the server for alternatives)
---@field prev string|false Previous suggestion
---@field trigger string|false Ask for a suggestion now
---@field accept_next_edit string|false Normal and insert mode: apply the next edit shown
---@field dismiss_next_edit string|false Normal mode: turn the next edit shown down

---@class smallcode.Config
---@field cmd string[]|nil Server command; nil keeps lsp/smallcode.lua's { 'smallcode-lsp', 'serve' }
---@field server table<string, any> Server settings: the keys of M.server_keys
---@field keymaps smallcode.Keymaps
---@field backend 'auto'|'native'|'extmark' auto: native vim.lsp.inline_completion on 0.12+, extmarks before
---@field debounce_ms integer Extmark backend: wait this long after the last keystroke
---@field filetypes string[]|nil Attach only to these filetypes; nil: all

local M = {}

---@type smallcode.Config
M.defaults = {
  cmd = nil,
  server = {},
  keymaps = {
    accept = '<Tab>',
    accept_word = '<M-w>',
    accept_line = '<M-l>',
    dismiss = '<C-]>',
    next = '<M-]>',
    prev = '<M-[>',
    trigger = '<M-\\>',
    accept_next_edit = '<Tab>',
    dismiss_next_edit = '<Esc>',
  },
  backend = 'auto',
  debounce_ms = 150,
  filetypes = nil,
}

--- Server settings the server understands; anything else is a typo.
--- Generated from smallcode_lsp/options.py by scripts/sync_editor_settings.py: do not edit.
M.server_keys = {
  model = 'string',
  nCtx = 'number',
  nThreads = 'number',
  nGpuLayers = 'number',
  expertsUsed = 'number',
  cpuMoe = 'number',
  cpuRepack = 'string',
  warmCacheMb = 'number',
  engineUrl = 'string',
  engineKind = 'string',
  engineModel = 'string',
  engineFimTemplate = 'string',
  engineApiKeyEnv = 'string',
  engineCaFile = 'string',
  engineInfill = 'boolean',
  engineFallback = 'boolean',
  engineTimeoutMs = 'number',
  enable = 'boolean',
  disabledLanguages = 'table',
  maxTokens = 'number',
  temperature = 'number',
  useFim = 'boolean',
  context = 'boolean',
  shaping = 'boolean',
  workspaceIndex = 'boolean',
  latencyBudgetMs = 'number',
  speculative = 'boolean',
  typeahead = 'boolean',
  prefetch = 'boolean',
  prefillAtRest = 'boolean',
  invokedItems = 'number',
  nextEdit = 'boolean',
  nextEditModel = 'string',
  nextEditFormat = 'string',
  nextEditDebounceMs = 'number',
  securityLint = 'boolean',
  debug = 'boolean',
}

--- Benchmark switches: accepted and passed to the server, not listed as settings.
--- Generated from smallcode_lsp/options.py by scripts/sync_editor_settings.py: do not edit.
M.bench_keys = {
  cacheReuse = 'boolean',
  cacheShift = 'boolean',
}

--- vim.validate's table form works on 0.10 .. 0.12.
local function check(name, value, validator, optional, message)
  vim.validate({ [name] = { value, validator, optional or message } })
end

---@param opts table|nil
---@return smallcode.Config
function M.resolve(opts)
  local cfg = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  check('cmd', cfg.cmd, 'table', true)
  check('server', cfg.server, 'table')
  check('keymaps', cfg.keymaps, 'table')
  check('backend', cfg.backend, function(v)
    return v == 'auto' or v == 'native' or v == 'extmark'
  end, nil, "'auto', 'native' or 'extmark'")
  check('debounce_ms', cfg.debounce_ms, 'number')
  check('filetypes', cfg.filetypes, 'table', true)
  for key, value in pairs(cfg.server) do
    local want = M.server_keys[key] or M.bench_keys[key]
    if not want then
      local known = vim.tbl_keys(M.server_keys)
      table.sort(known)
      error(('smallcode: unknown server setting %q (known: %s)'):format(key, table.concat(known, ', ')))
    end
    check('server.' .. key, value, want)
  end
  return cfg
end

return M
