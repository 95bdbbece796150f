// Drives VS Code (code-server, already serving FTSC_URL with the ftsc .vsix installed) in headless Chromium
// through Playwright: open the schedule, wait for the server, type a typo, then read what the window shows.
// Writes a JSON of findings to FTSC_RESULT and screenshots next to it; test_vscode.py judges them.
// Environment: FTSC_PLAYWRIGHT (playwright-core's folder), FTSC_CHROMIUM, FTSC_URL, FTSC_RESULT,
// FTSC_SCREENSHOT, FTSC_FILE_NAME (the schedule's name in the Explorer), FTSC_MACHINE_SETTINGS (the
// Remote settings file, written once the error about them has been seen), FTSC_SETTINGS_JSON.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const { chromium } = createRequire(join(env("FTSC_PLAYWRIGHT"), "package.json"))("playwright-core");

const found = { steps: {}, errors: [] };
const write = () => writeFileSync(env("FTSC_RESULT"), JSON.stringify(found, null, 2));

async function step(name, body) {
  const started = Date.now();
  try {
    found.steps[name] = (await body()) ?? true;
  } catch (error) {
    found.errors.push(`${name}: ${error?.stack ?? error}`);
  }
  found.steps[`${name}_seconds`] = (Date.now() - started) / 1000;
}

const browser = await chromium.launch({
  executablePath: env("FTSC_CHROMIUM"),
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
page.setDefaultTimeout(60_000);

const lines = page.locator(".monaco-editor .view-lines").first();
const notifications = () => page.locator(".notifications-toasts .notification-list-item-message").allInnerTexts();

try {
  await step("workbench", async () => {
    await page.goto(env("FTSC_URL"));
    await page.locator(".monaco-workbench").waitFor();
    await page.getByRole("treeitem", { name: env("FTSC_FILE_NAME") }).click();
    await lines.waitFor();
  });

  // No interpreter is set where this remote window reads it: the extension falls back to `ftsc` on PATH
  // (absent), and its error must say that the window is remote and to use the Remote settings.
  await step("remote_error", async () => {
    const toast = page.locator(".notifications-toasts .notification-list-item-message", { hasText: "ftsc" });
    await toast.first().waitFor();
    const messages = await notifications();
    await toast.first().hover();  // then close it: the screenshot is of the working server
    await page.getByRole("button", { name: /Clear Notification/ }).first().click();
    return { messages };
  });

  await step("server", async () => {
    writeFileSync(env("FTSC_MACHINE_SETTINGS"), env("FTSC_SETTINGS_JSON"));  // now in the Remote settings
    await page.locator(".monaco-editor .view-lines", { hasText: "params ·" }).first().waitFor({ timeout: 90_000 });
    return { text: await lines.innerText() };
  });

  await step("typo", async () => {
    const word = lines.locator("span", { hasText: /^classifier$/ }).first();
    await word.dblclick();
    await page.keyboard.type("classifer");
    await page.locator(".monaco-editor .squiggly-error").first().waitFor();
    await page.waitForTimeout(2_000);  // a second stream, were there one, would add its copy by now
    return {
      squiggles: await page.locator(".monaco-editor .squiggly-error").count(),
      line: await lines.locator(".view-line", { hasText: "classifer" }).first().innerText(),
    };
  });

  await step("problems", async () => {
    await page.keyboard.press("Control+Shift+M");
    const rows = page.locator(".markers-panel .monaco-list-row");
    await rows.filter({ hasText: "E101" }).first().waitFor();
    await page.waitForTimeout(1_000);
    return {
      rows: await rows.allInnerTexts(),
      status: await page.locator("#status\\.problems").first().getAttribute("aria-label"),
    };
  });

  await step("hover", async () => {
    await page.keyboard.press("Escape");
    await lines.locator("span", { hasText: /^pooler$/ }).first().hover();
    const hover = page.locator(".monaco-hover:not(.hidden)").filter({ hasText: "params" });
    await hover.first().waitFor();
    return { text: await hover.first().innerText() };
  });

  await step("inlay_hints", async () => ({
    hints: await page.locator(".monaco-editor .view-lines span", { hasText: /^⟵/ }).allInnerTexts(),
  }));
} finally {
  await page.screenshot({ path: env("FTSC_SCREENSHOT") }).catch((error) => found.errors.push(`screenshot: ${error}`));
  write();
  await browser.close();
}
