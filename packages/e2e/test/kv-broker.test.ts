import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerProcess, type ServerProcess } from '@triekv/test-utils';

const BIN = join(__dirname, '..', '..', 'kv-broker', 'bin', 'kv-broker.js');

function kvBroker(
  args: string[],
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

describe('kv-broker', () => {
  let servers: ServerProcess[] = [];
  let dir: string;
  let serverFile: string;
  let dataFile: string;

  beforeAll(async () => {
    servers = await Promise.all([0, 1, 2].map(() => startServerProcess()));
    dir = mkdtempSync(join(tmpdir(), 'kv-broker-'));
    serverFile = join(dir, 'servers.txt');
    writeFileSync(
      serverFile,
      `# three servers\n${servers.map((s) => `127.0.0.1 ${s.port}`).join('\n')}\n`,
    );
    dataFile = join(dir, 'data.txt');
    writeFileSync(
      dataFile,
      [
        '"person1" : { "name" : "John" ; "age" : 22 }',
        '"person2" : { "name" : "Mary" ; "address" : { "street" : "Panepistimiou" ; "number" : 12 } }',
        '"person3" : { "a" : [ 1 ; 2 }',
        "'person4': {'height': 17.0}",
      ].join('\n'),
    );
  });
  afterAll(async () => {
    for (const s of servers) s.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
  });

  it('loads, runs -c commands in order with exactly one stdout line each, and reports on stderr', async () => {
    const commands = [
      'GET person1',
      'query person2.address.number',
      'QUERY person4.height',
      'GET "person3"',
      'SCAN person',
      'COMPUTE 2*(x+3) WHERE x = QUERY person2.address.number',
      'PUT "person5" : { "a" : 1 }',
      'DELETE person5',
    ];
    const run = await kvBroker([
      '-s',
      serverFile,
      '-i',
      dataFile,
      '-k',
      '2',
      ...commands.flatMap((c) => ['-c', c]),
    ]);
    expect(run.stdout.split('\n').slice(0, -1)).toEqual([
      'person1 : { "name" : "John" ; "age" : 22 }',
      'person2.address.number : 12',
      'person4.height : 17.0',
      'NOT FOUND',
      'person1 person2 person4',
      '30',
      'OK',
      'OK',
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('connected to 3 of 3 servers');
    expect(run.stderr).toMatch(
      /loaded 3 records from .* \(6 replica writes\) .* 0 under-replicated; 1 rejected lines/,
    );
    expect(run.stderr).toContain("line 3, col 29: expected ']' or ';'");
  });

  it('reads commands from stdin when it is not a terminal, and exits 1 when one failed', async () => {
    const run = await kvBroker(
      ['-s', serverFile, '-k', '2'],
      'GET person1\n\n# a comment\nBOGUS\nCOMPUTE x WHERE x = QUERY person1.name\nGET nobody\n',
    );
    expect(run.stdout.split('\n').slice(0, -1)).toEqual([
      'person1 : { "name" : "John" ; "age" : 22 }',
      'ERROR: unknown command "BOGUS" (try HELP)',
      'ERROR: x: QUERY person1.name is not a number (person1.name : "John")',
      'NOT FOUND',
    ]);
    expect(run.code).toBe(1);
  });

  it('prints one JSON object per command with --json', async () => {
    const run = await kvBroker([
      '-s',
      serverFile,
      '-k',
      '2',
      '--json',
      '-c',
      'GET person1',
      '-c',
      'PUT "j" : {}',
      '-c',
      'SCAN per 1',
      '-c',
      'GET',
      '-c',
      'STATUS',
    ]);
    const objects = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objects).toHaveLength(5);
    expect(objects[0]).toEqual({
      ok: true,
      command: 'GET',
      found: true,
      text: 'person1 : { "name" : "John" ; "age" : 22 }',
      value: { name: 'John', age: 22 },
    });
    expect(objects[1]).toEqual({ ok: true, command: 'PUT', replicas: 2 });
    expect(objects[2]).toEqual({ ok: true, command: 'SCAN', keys: ['person1'] });
    expect(objects[3]).toEqual({
      ok: false,
      command: 'GET',
      error: {
        code: 'BAD_COMMAND',
        message: 'col 4: expected a key, found the end of the command',
      },
    });
    expect((objects[4] as { servers: unknown[] }).servers).toHaveLength(3);
    expect(run.code).toBe(1);
  });

  it('warns on stderr, not stdout, when k or more servers are down', async () => {
    const file = join(dir, 'mixed.txt');
    writeFileSync(file, `127.0.0.1 ${servers[0]?.port}\n127.0.0.1 1\n127.0.0.1 2\n`);
    const run = await kvBroker([
      '-s',
      file,
      '-k',
      '2',
      '-c',
      'GET person1',
      '-c',
      'DELETE person1',
    ]);
    expect(run.stderr).toContain('connected to 1 of 3 servers');
    expect(run.stderr).toContain('WARNING: only 1 server is up: writes cannot reach k=2 replicas');
    expect(run.stderr).toContain('WARNING: 2 of 3 servers are down (k=2): the result may be wrong');
    const out = run.stdout.split('\n').slice(0, -1);
    expect(out).toHaveLength(2);
    expect(out[1]).toMatch(/^ERROR: delete refused: .* down; nothing was deleted$/);
  });

  it.each([
    [
      ['-s', '/no/such/file', '-k', '2'],
      'kv-broker: error: /no/such/file: cannot read the server file: no such file',
    ],
    [
      ['-s', 'SERVERS', '-k', '9'],
      'kv-broker: error: k must be a whole number from 1 to 3 (the number of servers), got 9',
    ],
    [
      ['-s', 'SERVERS', '-k', '0'],
      "kv-broker: error: option '-k, --k <k>' argument '0' is invalid. k must be a whole number >= 1, got \"0\"",
    ],
    [
      ['-s', 'SERVERS', '-k', '1e20'],
      "kv-broker: error: option '-k, --k <k>' argument '1e20' is invalid. k must be a whole number >= 1, got \"1e20\"",
    ],
    [
      ['-s', 'SERVERS', '-k', '2', '-i', 'DIR'],
      'kv-broker: error: cannot load DIR: it is a directory, not a data file',
    ],
    [['-s', 'SERVERS', '-k', '2', '--placement', 'round'], 'Allowed choices are hash, random'],
    [
      ['-s', 'SERVERS', '-k', '2', '-i', '/no/data.txt'],
      'kv-broker: error: cannot load /no/data.txt: no such file',
    ],
    [['-k', '2'], "kv-broker: error: required option '-s, --servers <file>' not specified"],
  ])('rejects %j with exit code 2', async (args, message) => {
    const run = await kvBroker(
      args.map((a) => (a === 'SERVERS' ? serverFile : a === 'DIR' ? dir : a)),
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message.replace('DIR', dir));
    expect(run.stdout).toBe('');
    // Inputs are checked before connecting to anything.
    expect(run.stderr).not.toContain('connected to');
  });

  it('names every server file line that is malformed', async () => {
    const file = join(dir, 'bad2.txt');
    writeFileSync(file, '127.0.0.1 8000\nlocalhost\n127.0.0.1 99999\n127.0.0.1 8000\n');
    const run = await kvBroker(['-s', file, '-k', '1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      [
        `kv-broker: error: ${file}: 3 bad lines:`,
        '  line 2: expected "HOST PORT", found "localhost"',
        '  line 3: port must be a whole number from 1 to 65535, found "99999"',
        '  line 4: 127.0.0.1:8000 already listed on line 1',
        '',
      ].join('\n'),
    );
  });

  it('answers GET of a path NOT FOUND (with a hint on stderr), and says where a command is wrong', async () => {
    const run = await kvBroker([
      '-s',
      serverFile,
      '-k',
      '2',
      '-c',
      'GET person2.name',
      '-c',
      'GET person1 extra',
      '-c',
      'SCAN person -1',
      '-c',
      'COMPUTE x/y WHERE x = QUERY person2.address.number, y = QUERY person1.age',
      '--json',
      '-c',
      'STATUS',
    ]);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({
      ok: true,
      command: 'GET',
      found: false,
      text: 'NOT FOUND',
      warnings: ['GET takes a top-level key; for a path inside a record use QUERY person2.name'],
    });
    expect(lines.slice(1, 4).map((l) => (l.error as { message: string }).message)).toEqual([
      'col 13: GET takes one key: expected the end of the command, found "extra"',
      'col 13: SCAN\'s limit must be a whole number >= 1, found "-1"',
      "col 51: expected AND between bindings, found ','",
    ]);
    for (const s of (lines[4] as { servers: { latencyMs?: number }[] }).servers)
      expect(String(s.latencyMs)).toMatch(/^\d+(\.\d{1,2})?$/);
  });

  it('ends quietly, exit 0, when the reader of its output goes away (| head -1)', async () => {
    const child = spawn(
      'sh',
      ['-c', `"${process.execPath}" "${BIN}" -s "${serverFile}" -k 2 | head -1`],
      { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // kv-broker stops reading once head has gone: the rest of its input is not wanted.
    child.stdin.on('error', () => undefined);
    child.stdin.end(`${'GET person1\n'.repeat(20_000)}`);
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(stdout).toBe('person1 : { "name" : "John" ; "age" : 22 }\n');
    expect(stderr).not.toMatch(/EPIPE|at /);
  });

  it('names the server file line that is malformed', async () => {
    const file = join(dir, 'bad.txt');
    writeFileSync(file, '127.0.0.1 8000\n127.0.0.1 http\n');
    const run = await kvBroker(['-s', file, '-k', '1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `kv-broker: error: ${file}: line 2: port must be a whole number from 1 to 65535, found "http"\n`,
    );
  });
});
