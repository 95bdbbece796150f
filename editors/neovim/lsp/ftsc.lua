-- The ftsc language server for Neovim 0.11+ (`:help lsp-config`). With editors/neovim on 'runtimepath'
-- (or this file copied to ~/.config/nvim/lsp/ftsc.lua), `vim.lsp.enable('ftsc')` starts it for every
-- buffer of filetype `fts`. Override any field with `vim.lsp.config('ftsc', { ... })`, e.g.
--   cmd = { '/path/to/venv/bin/python', '-m', 'ftsc', 'lsp' }
--   settings = { ftsc = { namespace = 'namespaces/bert-base.json' } }
-- `namespace` is used for schedules with no `use namespace` and no [tool.ftsc] entry in pyproject.toml;
-- a relative path is relative to the root directory.
---@type vim.lsp.Config
return {
  cmd = { 'ftsc', 'lsp' },
  filetypes = { 'fts' },
  root_markers = { 'pyproject.toml', '.git' },
}
