import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { chromium, type Browser as Chromium } from 'playwright-core';
import { Broker } from '@triekv/broker';
import { brokerHttp, type HttpService } from '@triekv/observe';
import { startServerProcess, type ServerProcess } from '@triekv/test-utils';

/** Debian's chromium (`.ci/run` installs it when missing), or another one named by CHROMIUM. */
const CHROMIUM = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p): p is string => p !== undefined && existsSync(p),
);
if (CHROMIUM === undefined)
  console.warn(
    'dashboard.test: skipped: no chromium (install the Debian package chromium, or set CHROMIUM to a Chromium binary)',
  );
const withBrowser = CHROMIUM === undefined ? describe.skip : describe;

/** Where the README's screenshot is written (TRIEKV_UPDATE_SCREENSHOT=1), else a temporary file. */
const SHOT = join(__dirname, '..', '..', '..', 'docs', 'dashboard.png');

withBrowser('the dashboard in a real browser (playwright-core + chromium)', () => {
  const servers: ServerProcess[] = [];
  let broker: Broker;
  let client: Broker;
  let http: HttpService;
  let browser: Chromium;
  let traffic = true;
  let load: Promise<void> = Promise.resolve();
  const dir = mkdtempSync(join(tmpdir(), 'triekv-dashboard-'));

  beforeAll(async () => {
    servers.push(...(await Promise.all([0, 1, 2].map(() => startServerProcess()))));
    const addresses = servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
    broker = new Broker({ servers: addresses, k: 2, reconnectMinMs: 20, reconnectMaxMs: 200 });
    client = new Broker({ servers: addresses, k: 2, reconnectMinMs: 20, reconnectMaxMs: 200 });
    await broker.start();
    await client.start();
    const records = Array.from(
      { length: 300 },
      (_, i) =>
        `"key${i}" : { "i" : ${i} ; "name" : "n${i}" ; "height" : ${i}.0 ; "tags" : [ "a" ; "b" ] }`,
    );
    await broker.load(Readable.from([records.join('\n')]));
    // Traffic for the charts: another client reading all along.
    load = (async () => {
      for (let i = 0; traffic; i++) await client.get(`key${i % 300}`).catch(() => undefined);
    })();
    http = brokerHttp(broker, { port: 0, intervalMs: 500 });
    await http.listen();
    browser = await chromium.launch({
      executablePath: CHROMIUM as string,
      headless: true,
      // Root (CI) has no user namespaces for chromium's sandbox.
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
  }, 60_000);

  afterAll(async () => {
    traffic = false;
    await load;
    await browser?.close();
    await http?.close();
    await client?.close();
    await broker?.close();
    for (const s of servers) s.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows every server, lists keys as a prefix is typed, shows a record, answers QUERY, and turns a killed server to down', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${http.address().port}/`);
    const rows = page.locator('#servers tbody tr');
    await rows.nth(2).waitFor();
    expect(await rows.count()).toBe(3);
    for (const s of servers)
      expect(
        await page.locator(`tr[data-server="127.0.0.1:${s.port}"] td.state`).textContent(),
      ).toBe('up');
    await page.locator('#cluster-state.ok').waitFor();

    // The key browser: a prefix lists matching keys (SCAN); a click shows the record.
    await page.locator('#prefix').pressSequentially('key29');
    await page.locator('#keys button[data-key="key299"]').waitFor();
    const listed = await page.locator('#keys button').allTextContents();
    expect(listed).toEqual(['key29', ...Array.from({ length: 10 }, (_, i) => `key29${i}`)]);
    await page.locator('#keys button[data-key="key291"]').click();
    const record = page.locator('#record pre[data-record="key291"]');
    await record.waitFor();
    expect(await record.textContent()).toContain('"height": 291.0');
    expect(await page.locator('#record dd[data-servers]').textContent()).toMatch(
      /^127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+$/,
    );
    await page.locator('#query').fill('key291.tags[1]');
    await page.locator('#query-form button').click();
    await page.locator('#query-result', { hasText: 'key291.tags[1] : "b"' }).waitFor();
    // Traffic on the chart before the picture.
    // At least 8 points: on a slow machine the steps above can take longer than that, and an exact
    // count would then never be seen.
    await page.waitForFunction(
      "Number(document.querySelector('#ops-chart')?.dataset.points ?? 0) >= 8",
    );
    const shot = process.env.TRIEKV_UPDATE_SCREENSHOT === '1' ? SHOT : join(dir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);

    // A server killed: its row says down within a couple of seconds, and the cluster stays ok (k=2).
    const victim = servers[1] as ServerProcess;
    victim.kill('SIGKILL');
    const started = Date.now();
    await page
      .locator(`tr[data-server="127.0.0.1:${victim.port}"] td.state.down`)
      .waitFor({ timeout: 5000 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await page.locator('#cluster-state').textContent()).toBe('cluster ok');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
