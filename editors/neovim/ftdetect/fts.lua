-- `.fts` files are fine-tuning schedules (filetype `fts`), the filetype lsp/ftsc.lua attaches to.
vim.filetype.add({ extension = { fts = 'fts' } })
