// Build tooling (`port build`, never shipped): the runtime snapshot the extension ships. It takes
// the same steps as the snapshot maker's worker (crates/worker: `boot_afresh` for a snapshot, then
// `make_snapshot`), under Node, from the build's own Pyodide files:
//   node make_snapshot.mjs <pyodide dir> <runtime wheel> <out file> <python file>...
// where the python files are run in order after the wheel is loaded (the wire writer, the glue,
// the warm-up). Pyodide snapshots hold memory, not the JS environment, so one made here boots in
// the sandbox's worker.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [indexDir, wheel, outFile, ...pythonFiles] = process.argv.slice(2);
// Emscripten names the program after the script: the browser's is "./this.program", and the
// snapshot keeps what it is given (`sys.executable`, `os.environ["_"]`), so no build path goes in.
process.argv.length = 1;
const { loadPyodide } = await import(pathToFileURL(path.join(indexDir, 'pyodide.mjs')).href);
const pyodide = await loadPyodide({ indexURL: `${path.resolve(indexDir)}/`, _makeSnapshot: true, stdout: () => {}, stderr: () => {} });
await pyodide.loadPackage(path.resolve(wheel), { messageCallback: () => {} });
for (const file of pythonFiles) pyodide.runPython(readFileSync(file, 'utf8'));
for (const name of Object.keys(pyodide.loadedPackages)) delete pyodide.loadedPackages[name];
const bytes = pyodide.makeMemorySnapshot();
writeFileSync(`${outFile}.tmp`, bytes);
renameSync(`${outFile}.tmp`, outFile);
