// The Northbound operator console: the fleet, one device, and raw frames, over the same
// public protocol every client uses (docs/console.md).

import { allDevices, get } from './api.js';
import { describe } from './codes.js';
import { DeviceView } from './device.js';
import { FleetView } from './fleet.js';
import { appendLog, el } from './format.js';
import { Connection } from './socket.js';

const TOKEN_KEY = 'northbound.token';
const $ = (id) => document.getElementById(id);

let connection = null;
let fleet = null;
let device = null;
let products = new Map();

function showView(name) {
  for (const id of ['sign-in', 'fleet', 'device', 'raw']) $(id).hidden = id !== name;
  for (const link of document.querySelectorAll('#nav a')) {
    link.classList.toggle('active', link.dataset.view === name || (name === 'device' && link.dataset.view === 'fleet'));
  }
}

function signInFailed(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  connection?.close();
  connection = null;
  $('nav').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in-error').textContent = message;
  $('sign-in-error').hidden = false;
  setConnection('error', 'not connected');
  showView('sign-in');
}

function setConnection(state, text) {
  $('connection').dataset.state = state;
  $('connection').textContent = text;
}

function route() {
  if (!connection) return;
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'device' && parts.length === 3) {
    const product = products.get(parts[1]);
    const d = fleet.find(parts[1], parts[2]);
    if (product && d) {
      device.show(product, d);
      return showView('device');
    }
  }
  device.hide();
  showView(parts[0] === 'raw' ? 'raw' : 'fleet');
  if (parts[0] !== 'raw') fleet.schedule();
}

function watchFleet() {
  for (const productKey of products.keys()) {
    const base = `/device/${productKey}/*`;
    const onEvent = (change) => (frame) => {
      if (frame.type !== 'result') return;
      const deviceKey = frame.topic.split('/')[3];
      const update = { timestamp: frame.timestamp, ...change(frame) };
      fleet.update(productKey, deviceKey, update);
      if (device.device?.productKey === productKey && device.device?.deviceKey === deviceKey) device.refresh();
    };
    connection.sub(`${base}/online`, null, onEvent(() => ({ online: true })), true);
    connection.sub(`${base}/offline`, null, onEvent(() => ({ online: false })), true);
    connection.sub(`${base}/message/property/report`, null, onEvent((f) => ({ online: true, values: f.payload })), true);
  }
}

function logFrame(direction, text) {
  const entry = el('li', text, direction);
  try {
    if (JSON.parse(text).type === 'error') entry.classList.add('bad');
  } catch (e) {
    // Raw frames need not be JSON.
  }
  appendLog($('raw-log'), entry, 1000);
}

async function refreshFleet(token) {
  try {
    fleet.setDevices(await allDevices(token));
    device.refresh();
  } catch (e) {
    if (e.status === 401) signInFailed(`The token was not accepted: ${e.message}.`);
  }
}

async function start(token) {
  $('sign-in-error').hidden = true;
  setConnection('connecting', 'signing in…');
  let list;
  try {
    list = (await get(token, 'products')).products;
    fleet.setProducts(list);
    products = new Map(list.map((p) => [p.productKey, p]));
    fleet.setDevices(await allDevices(token));
  } catch (e) {
    if (e.status === 401) return signInFailed(`The token was not accepted: ${e.message}.`);
    return signInFailed(`${e.code}: ${describe(e.code)} (${e.message})`);
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  let connectedBefore = false;
  connection = new Connection(token, {
    state: (state, text) => {
      setConnection(state, text);
      if (state !== 'open') return;
      // Back after a drop: what happened meanwhile (devices gone offline, new values) is
      // read again, since the live events of that time were lost with the connection.
      if (connectedBefore) refreshFleet(token);
      connectedBefore = true;
    },
    authError: (message) => signInFailed(`The token was not accepted: ${message}.`),
    frame: logFrame,
  });
  device = new DeviceView(connection);
  connection.open();
  watchFleet();
  $('nav').hidden = false;
  $('sign-out').hidden = false;
  route();
}

function init() {
  fleet = new FleetView((productKey, deviceKey) => {
    location.hash = `#/device/${encodeURIComponent(productKey)}/${encodeURIComponent(deviceKey)}`;
  });
  window.addEventListener('hashchange', route);
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('token').value.trim();
    $('token').value = '';
    if (token) start(token);
  });
  $('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    location.hash = '';
    location.reload();
  });
  $('raw-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const sent = connection?.sendRaw($('raw-frame').value);
    $('raw-error').textContent = sent ? '' : 'not connected';
  });
  $('raw-clear').addEventListener('click', () => $('raw-log').replaceChildren());
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) start(saved);
  else showView('sign-in');
}

init();
