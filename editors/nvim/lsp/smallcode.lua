-- Config for vim.lsp.config / vim.lsp.enable (Neovim 0.11+):
--   vim.lsp.enable('smallcode')
-- require('smallcode').setup{} merges its options into this config.
---@type vim.lsp.Config
return {
  cmd = { 'smallcode-lsp', 'serve' },
  -- No filetypes: every file buffer gets completions; the server skips `disabledLanguages`.
  -- Only real files: no server for scratch buffers. Without a project root, the current
  -- directory, so files outside projects share one server (and one loaded model).
  root_dir = function(bufnr, on_dir)
    if vim.bo[bufnr].buftype ~= '' or vim.api.nvim_buf_get_name(bufnr) == '' then
      return
    end
    on_dir(vim.fs.root(bufnr, { '.git' }) or vim.fn.getcwd())
  end,
  -- Flat server settings; also sent as workspace/didChangeConfiguration { settings = { smallcode = ... } }.
  init_options = {},
  settings = { smallcode = {} },
  handlers = {
    ['smallcode/statusChanged'] = function(_, result, ctx)
      require('smallcode.status').update(ctx.client_id, result)
    end,
  },
}
