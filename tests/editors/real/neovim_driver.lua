-- Drives a real headless Neovim through what a user does in a `.fts` file, with the ftsc server started by
-- the shipped configuration (editors/neovim, set up in init.lua as docs/editors.md says). Each step records
-- what Neovim itself holds afterwards (its diagnostics, buffer text, hover and completion answers) in a JSON
-- file that test_neovim.py judges. Environment: FTSC_FILE (the schedule), FTSC_RESULT (the JSON to write).
local results = { steps = {} }
local file = assert(vim.env.FTSC_FILE)

-- Count what the server pushes, to know that an answer has come (pulled results need no counting: the
-- server offers Neovim 0.11 no pull, and a pulled copy would show as a second diagnostic).
local pushes = 0
local publish = vim.lsp.handlers['textDocument/publishDiagnostics']
vim.lsp.handlers['textDocument/publishDiagnostics'] = function(...)
  pushes = pushes + 1
  return publish(...)
end

local function finish()
  results.log_file = vim.lsp.log.get_filename()
  local out = assert(io.open(assert(vim.env.FTSC_RESULT), 'w'))
  out:write(vim.json.encode(results))
  out:close()
  vim.cmd('qall!')
end

local function step(name, body)
  local ok, err = pcall(body)
  if not ok then
    results.steps[name] = { error = tostring(err) }
  end
end

local function wait(ms, condition, what)
  if not vim.wait(ms, condition, 20) then
    error('timed out waiting for ' .. what)
  end
end

local function text()
  return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
end

--- Byte column (0-based) of `needle` in line `row` (0-based).
local function column(row, needle)
  local line = vim.api.nvim_buf_get_lines(0, row, row + 1, false)[1]
  return assert(line:find(needle, 1, true), needle .. ' not on line ' .. row) - 1
end

local function row_of(needle)
  for index, line in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
    if line:find(needle, 1, true) then
      return index - 1
    end
  end
  error(needle .. ' not in the buffer')
end

local function diagnostics()
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(0)) do
    found[#found + 1] = {
      code = d.code,
      lnum = d.lnum,
      col = d.col,
      end_lnum = d.end_lnum,
      end_col = d.end_col,
      namespace = vim.diagnostic.get_namespace(d.namespace).name,
      message = d.message,
    }
  end
  return found
end

--- Wait until the diagnostics have stayed the same for `quiet` ms (a second stream would arrive meanwhile).
local function settled(condition, quiet)
  local last, since = nil, vim.uv.now()
  wait(15000, function()
    local now = vim.json.encode(diagnostics())
    if now ~= last then
      last, since = now, vim.uv.now()
    end
    return condition() and vim.uv.now() - since >= quiet
  end, 'the diagnostics to settle')
  return diagnostics()
end

local function request(client, method, params)
  local answer = client:request_sync(method, params, 10000, 0)
  if answer == nil then
    error(method .. ': no answer')
  end
  if answer.err ~= nil then
    error(method .. ': ' .. vim.inspect(answer.err))
  end
  return answer.result
end

local function position_params(client, row, col)
  vim.api.nvim_win_set_cursor(0, { row + 1, col })
  return vim.lsp.util.make_position_params(0, client.offset_encoding)
end

vim.cmd.edit(vim.fn.fnameescape(file))
local client
step('attach', function()
  wait(15000, function()
    client = vim.lsp.get_clients({ bufnr = 0, name = 'ftsc' })[1]
    return client ~= nil and client.initialized
  end, 'the ftsc client')
  results.steps.attach = {
    filetype = vim.bo.filetype,
    offset_encoding = client.offset_encoding,
    root_dir = client.root_dir or vim.NIL,
    pulls = client.server_capabilities.diagnosticProvider ~= nil,
  }
end)
if client == nil then
  finish()
  return
end
results.original = text()

step('clean', function()
  -- the example with its namespace from the relative `ftsc.namespace` setting: no problem at all
  results.steps.clean = { diagnostics = settled(function() return pushes > 0 end, 1500) }
end)

-- The typo: `phase head {` + its thaw line become one line with a non-ASCII phase name before `classifer`.
local typo_row = row_of('phase head {')
step('typo', function()
  vim.api.nvim_buf_set_lines(0, typo_row, typo_row + 2, false, { 'phase "tête" { thaw classifer.*, bert.pooler.**' })
  local found = settled(function()
    return vim.iter(vim.diagnostic.get(0)):any(function(d) return d.code == 'E101' end)
  end, 1500)
  results.steps.typo = {
    diagnostics = found,
    line = vim.api.nvim_buf_get_lines(0, typo_row, typo_row + 1, false)[1],
    counts = vim.diagnostic.count(0),
  }
end)

step('hover', function()
  local params = position_params(client, typo_row, column(typo_row, 'bert.pooler.**') + 2)
  local hover = request(client, 'textDocument/hover', params)
  results.steps.hover = { value = hover and hover.contents.value or vim.NIL }
end)

step('completion', function()
  -- after `bert.pooler.` the segments below it are offered
  local row = typo_row
  local params = position_params(client, row, column(row, 'bert.pooler.**') + #'bert.pooler.')
  local answer = request(client, 'textDocument/completion', params)
  local items = answer and (answer.items or answer) or {}
  local labels = {}
  for _, item in ipairs(items) do
    labels[#labels + 1] = item.label
  end
  -- What Neovim's own completion would insert for each item: it applies the list's itemDefaults (the
  -- shared edit range the server sends to a client that declares them) before choosing the word.
  local words = {}
  for _, entry in ipairs(vim.lsp.completion._lsp_to_complete_items(vim.deepcopy(answer), '', client.id)) do
    local item = entry.user_data.nvim.lsp.completion_item
    words[entry.abbr] = { word = entry.word, range = item.textEdit and item.textEdit.range or vim.NIL }
  end
  results.steps.completion = {
    labels = labels,
    shared_range = type(answer) == 'table' and answer.itemDefaults ~= nil and answer.itemDefaults.editRange or vim.NIL,
    words = words,
  }
end)

step('quickfix', function()
  vim.api.nvim_win_set_cursor(0, { typo_row + 1, column(typo_row, 'classifer') + 1 })
  local before = text()
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action) return action.kind == 'quickfix' end,
  })
  wait(10000, function() return text() ~= before end, 'the quick fix to be applied')
  results.steps.quickfix = {
    line = vim.api.nvim_buf_get_lines(0, typo_row, typo_row + 1, false)[1],
    diagnostics = settled(function() return true end, 1000),
  }
end)

step('typing', function()
  -- a burst of keystrokes, as typed: Neovim cancels the requests each change leaves behind
  local row = row_of('until epoch 5')
  for _, char in ipairs({ ' ', '#', ' ', 'n', 'o', 't', 'e' }) do
    local line = vim.api.nvim_buf_get_lines(0, row, row + 1, false)[1]
    vim.api.nvim_buf_set_text(0, row, #line, row, #line, { char })
    vim.wait(30)
  end
  results.steps.typing = { diagnostics = settled(function() return true end, 1000) }
end)

step('format', function()
  local row = row_of('lr = 2e-5')
  vim.api.nvim_buf_set_lines(0, row, row + 1, false, { '  lr   =   2e-5' })
  local damaged = text()
  vim.lsp.buf.format({ bufnr = 0, timeout_ms = 10000 })
  results.steps.format = { damaged = damaged, formatted = text() }
end)

step('rename', function()
  local row = row_of('let layers')
  local before = text()
  vim.api.nvim_win_set_cursor(0, { row + 1, column(row, 'layers') })
  vim.lsp.buf.rename('blocks')
  wait(10000, function() return text() ~= before end, 'the rename')
  results.steps.rename = { text = text() }
end)

step('refused_rename', function()
  -- an invalid new name: the server refuses (-32803) and Neovim shows the reason
  local row = row_of('let blocks')
  local shown = {}
  local notify = vim.notify
  vim.notify = function(message, level)
    shown[#shown + 1] = { message = message, level = level }
  end
  vim.api.nvim_win_set_cursor(0, { row + 1, column(row, 'blocks') })
  vim.lsp.buf.rename('2 bad')
  wait(10000, function() return #shown > 0 end, 'the refusal')
  vim.notify = notify
  results.steps.refused_rename = { shown = shown, text_unchanged = text():find('let blocks', 1, true) ~= nil }
end)

step('shutdown', function()
  client:stop()
  wait(10000, function() return client:is_stopped() end, 'the server to stop')
end)
finish()
