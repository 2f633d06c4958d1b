// Compiles every contract in src/ with the pinned solc (npm package "solc")
// and writes build/<Name>.abi and build/<Name>.bin. Deterministic: same
// sources and solc version give the same bytes (no metadata hash).
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const srcDir = path.join(__dirname, 'src');
const outDir = path.join(__dirname, 'build');
const sources = {};
for (const f of fs.readdirSync(srcDir).filter((f) => f.endsWith('.sol')).sort()) {
  sources[f] = { content: fs.readFileSync(path.join(srcDir, f), 'utf8') };
}
const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'cancun',
    metadata: { bytecodeHash: 'none', appendCBOR: false },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  },
};
// Imports outside src/ (e.g. "@polytope-labs/...") resolve in node_modules,
// at the exact versions package-lock.json pins.
function findImports(p) {
  for (const base of [srcDir, path.join(__dirname, 'node_modules')]) {
    const f = path.join(base, p);
    if (fs.existsSync(f)) return { contents: fs.readFileSync(f, 'utf8') };
  }
  return { error: `import not found: ${p}` };
}
const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
let failed = false;
for (const e of out.errors || []) {
  console.error(e.formattedMessage);
  if (e.severity === 'error') failed = true;
}
if (failed) process.exit(1);
fs.mkdirSync(outDir, { recursive: true });
// Artifacts only for deployable contracts of src/ (not imported libraries
// or interfaces). Predeploys (contracts placed in a rollup's genesis) also
// get their runtime code.
const predeploys = new Set(['WeftL2Bridge']);
for (const file of Object.keys(sources)) {
  for (const [name, c] of Object.entries(out.contracts[file] || {})) {
    if (!c.evm.bytecode.object || c.abi.length === 0) continue;
    fs.writeFileSync(path.join(outDir, `${name}.abi`), JSON.stringify(c.abi, null, 2) + '\n');
    fs.writeFileSync(path.join(outDir, `${name}.bin`), c.evm.bytecode.object + '\n');
    if (predeploys.has(name)) {
      fs.writeFileSync(path.join(outDir, `${name}.runtime.bin`), c.evm.deployedBytecode.object + '\n');
    }
  }
}
console.log(`compiled ${Object.keys(sources).length} files with solc ${solc.version()}`);
