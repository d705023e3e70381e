// Long-lived Adaptive Cards validator: parses, validates and renders cards with the real
// `adaptivecards` JS renderer under jsdom, so tests see what a Teams-like client would.
//
// Protocol (JSON lines): after start-up it writes {"ready": true, "adaptivecards": "<version>"}.
// Each stdin line is {"id": <any>, "card": {...}}; each reply is one stdout line
// {"id", "ok", "parseEvents", "validationEvents", "rendered", "texts", "inputIds", "actionCount",
//  "images", "error"}. stdout carries only protocol lines; anything else goes to stderr.
"use strict";

const path = require("node:path");
const readline = require("node:readline");
const { createRequire } = require("node:module");

const nodeModules = process.argv[2] || path.resolve(__dirname, "..", "..", "node_modules");
const requireFromRepo = createRequire(path.join(nodeModules, "noop.js"));

// The library and its dependencies may log; keep stdout for protocol lines only.
const protocolOut = process.stdout.write.bind(process.stdout);
console.log = console.info = console.warn = console.debug = (...args) => console.error(...args);

const { JSDOM } = requireFromRepo("jsdom");
const dom = new JSDOM("<!doctype html><html><body></body></html>", { pretendToBeVisual: true });
// adaptivecards expects browser globals (document, HTMLElement, HTMLInputElement, ...).
for (const name of Object.getOwnPropertyNames(dom.window)) {
    if (!(name in globalThis)) {
        try {
            globalThis[name] = dom.window[name];
        } catch {
            // Some window properties are getters that cannot be copied; the renderer doesn't need them.
        }
    }
}
// jsdom does not implement innerText, and TextBlock sets plain text through it: without this the
// rendered blocks are empty and tests could not see what a person would read.
Object.defineProperty(dom.window.HTMLElement.prototype, "innerText", {
    configurable: true,
    get() { return this.textContent; },
    set(value) { this.textContent = value; },
});

const AC = requireFromRepo("adaptivecards/dist/adaptivecards.js");
const acVersion = requireFromRepo("adaptivecards/package.json").version;

// Teams shows up to 6 actions per action set; the library's default host config allows 5.
const hostConfig = new AC.HostConfig({ supportsInteractivity: true, actions: { maxActions: 6 } });

// Blocks whose text a person reads; nested matches are skipped so nothing is counted twice.
const READABLE = ".ac-textBlock, .ac-richTextBlock, .ac-pushButton, option, label";

function describe(event) {
    return {
        phase: AC.ValidationPhase[event.phase],
        event: AC.ValidationEvent[event.event],
        message: event.message,
    };
}

function readableTexts(root) {
    const texts = [];
    for (const el of root.querySelectorAll(READABLE)) {
        if (el.parentElement && el.parentElement.closest(READABLE)) continue;
        const text = el.textContent.trim();
        if (text) texts.push(text);
    }
    return texts;
}

function validate(json) {
    const card = new AC.AdaptiveCard();
    card.hostConfig = hostConfig;
    const context = new AC.SerializationContext(AC.Versions.v1_5);
    card.parse(json, context);
    const parseEvents = [];
    for (let i = 0; i < context.eventCount; i++) parseEvents.push(describe(context.getEventAt(i)));
    const validationEvents = card.validateProperties().validationEvents.map(describe);

    const element = card.render();
    const rendered = element instanceof dom.window.HTMLElement;
    return {
        ok: rendered && parseEvents.length === 0 && validationEvents.length === 0,
        parseEvents,
        validationEvents,
        rendered,
        texts: rendered ? readableTexts(element) : [],
        inputIds: card.getAllInputs(true).map((input) => input.id),
        actionCount: card.getAllActions().length,
        images: rendered
            ? Array.from(element.querySelectorAll("img")).map((img) => ({ src: img.src, alt: img.alt }))
            : [],
        error: null,
    };
}

function reply(message) {
    protocolOut(JSON.stringify(message) + "\n");
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
    if (!line.trim()) return;
    let request;
    try {
        request = JSON.parse(line);
    } catch (err) {
        reply({ id: null, ok: false, error: `bad request line: ${err.message}` });
        return;
    }
    try {
        reply({ id: request.id, ...validate(request.card) });
    } catch (err) {
        // A renderer crash is itself a finding about the card, not a reason to stop serving.
        reply({ id: request.id, ok: false, rendered: false, error: String(err && err.stack || err) });
    }
});
lines.on("close", () => process.exit(0));

reply({ ready: true, adaptivecards: acVersion });
