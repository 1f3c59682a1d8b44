// Sandbox page bootstrap (a manifest sandbox page, embedded by the offscreen document). The study's
// Python runs in a worker started here, so it has this page's opaque origin and sandbox CSP: no
// chrome.*, no extension storage, no shared BroadcastChannel, no network but the extension's own
// files. An opaque origin may not start a worker from an extension URL, so a one-line blob: worker
// imports the worker's bootstrap; its name carries the extension's base URL, which a blob: worker
// cannot resolve against. Messages pass unchanged, the buffers a message lists in `transfer` moved
// rather than copied; the offscreen document judges what comes out.
const base = new URL('./', location.href).href;
const bootstrap = new Blob([`importScripts(${JSON.stringify(`${base}worker.js`)});`], { type: 'text/javascript' });
const worker = new Worker(URL.createObjectURL(bootstrap), { name: base });
worker.onmessage = (event) => parent.postMessage(event.data, '*', event.data?.transfer ?? []);
worker.onerror = (event) => parent.postMessage({ eventType: 'error', message: `the worker failed: ${event.message}` }, '*');
worker.onmessageerror = () => parent.postMessage({ eventType: 'error', message: 'the worker sent a message that cannot be read' }, '*');
addEventListener('message', (event) => { if (event.source === parent) worker.postMessage(event.data, event.data?.transfer ?? []); });
