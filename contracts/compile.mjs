// Compiles contracts/src/*.sol with solc-js (the exact version pinned in package.json) and writes
// contracts/build/<Name>.json = { contractName, compiler, abi, bytecode, deployedBytecode }.
//   node contracts/compile.mjs          -> (re)writes the artifacts
//   node contracts/compile.mjs --check  -> exits 1 if any committed artifact differs from a fresh compile
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const solc = require('solc');

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const srcDir = path.join(here, 'src');
const buildDir = path.join(here, 'build');
const CONTRACTS = ['RewardToken', 'CumulativeMerkleDistributor'];

const sources = {};
for (const f of fs.readdirSync(srcDir).filter(f => f.endsWith('.sol')).sort()) {
  sources[`contracts/src/${f}`] = { content: fs.readFileSync(path.join(srcDir, f), 'utf8') };
}

const input = {
  language: 'Solidity',
  sources,
  settings: {
    evmVersion: 'prague',
    optimizer: { enabled: true, runs: 10000 },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  },
};

function findImports(p) {
  const candidates = [path.join(root, 'node_modules', p), path.join(root, p)];
  for (const c of candidates) {
    if (fs.existsSync(c)) return { contents: fs.readFileSync(c, 'utf8') };
  }
  return { error: `File not found: ${p}` };
}

const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors || []).filter(e => e.severity === 'error');
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length) process.exit(2);

const check = process.argv.includes('--check');
let stale = 0;
fs.mkdirSync(buildDir, { recursive: true });
for (const name of CONTRACTS) {
  const file = `contracts/src/${name}.sol`;
  const c = output.contracts[file][name];
  const artifact = {
    contractName: name,
    sourceName: file,
    compiler: `solc-js ${solc.version()}`,
    settings: { evmVersion: input.settings.evmVersion, optimizer: input.settings.optimizer },
    abi: c.abi,
    bytecode: '0x' + c.evm.bytecode.object,
    deployedBytecode: '0x' + c.evm.deployedBytecode.object,
  };
  const text = JSON.stringify(artifact, null, 2) + '\n';
  const out = path.join(buildDir, `${name}.json`);
  if (check) {
    const current = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
    if (current !== text) {
      console.error(`STALE: ${path.relative(root, out)} differs from a fresh compile (run: node contracts/compile.mjs)`);
      stale++;
    } else {
      console.log(`ok: ${path.relative(root, out)}`);
    }
  } else {
    fs.writeFileSync(out, text);
    console.log(`wrote ${path.relative(root, out)} (${(c.evm.deployedBytecode.object.length / 2) | 0} bytes runtime)`);
  }
}
process.exit(stale ? 1 : 0);
