// SPDX-License-Identifier: MIT
// The JSON API (docs/api.md): the session id travels in the X-Session header, never in a URL,
// and lives in sessionStorage (this tab only); the secret cookie is HttpOnly.
const KEY = 'tandem.session';

export class ApiError extends Error {
  constructor(status, code, message, retryAfter, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.body = body || null; // the parsed JSON answer, for calls that say more (mail send's "draft")
  }
}

let onSessionEnd = () => {};

export function session() {
  return sessionStorage.getItem(KEY);
}

export function setSession(id) {
  if (id) sessionStorage.setItem(KEY, id);
  else sessionStorage.removeItem(KEY);
}

// fn(error) runs when a call finds the session gone (expired, or signed out elsewhere).
export function onSessionEnded(fn) {
  onSessionEnd = fn;
}

function headers(extra) {
  const h = Object.assign({}, extra);
  const id = session();
  if (id) h['X-Session'] = id;
  return h;
}

const NET_MESSAGE = 'The server cannot be reached. Check your connection and try again.';

function failure(status, statusText, text, retryAfter) {
  let err = null;
  let body = null;
  try {
    body = JSON.parse(text);
    err = body.error;
  } catch (e) {
    err = null;
  }
  const code = (err && err.code) || `HTTP-${status}`;
  const message = (err && err.message) || `The server answered ${status} ${statusText}.`;
  const error = new ApiError(status, code, message, retryAfter, body);
  if (status === 401 && code === 'SES-0203' && session()) {
    setSession(null);
    onSessionEnd(error);
  }
  return error;
}

// fetch with the API's errors: resolves to {res, text} of a 2xx answer, rejects with ApiError.
async function send(path, init) {
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'NET', NET_MESSAGE);
  }
  const text = await res.text();
  if (!res.ok) throw failure(res.status, res.statusText, text, res.headers.get('Retry-After'));
  return { res, text };
}

// A JSON call; resolves to the parsed answer (null for 204), rejects with ApiError.
export async function api(method, path, body) {
  const init = { method, headers: headers(), credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const { text } = await send(path, init);
  return text ? JSON.parse(text) : null;
}

// The bytes of a file (a Blob), for a download the browser saves.
export async function download(path) {
  let res;
  try {
    res = await fetch(path, { headers: headers(), credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'NET', NET_MESSAGE);
  }
  if (!res.ok) throw failure(res.status, res.statusText, await res.text(), null);
  return res.blob();
}

// PUT (or `method`) of a file with progress (fetch reports none for uploads):
// progress(fraction 0..1).
export function upload(path, file, progress, method = 'PUT') {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path);
    const h = headers();
    for (const name of Object.keys(h)) xhr.setRequestHeader(name, h[name]);
    // the API takes type/subtype only; anything else is sent as bytes
    const type = /^[\w.+-]+\/[\w.+-]+$/.test(file.type) ? file.type : 'application/octet-stream';
    xhr.setRequestHeader('Content-Type', type);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable && e.total > 0) progress(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(JSON.parse(xhr.responseText));
      else reject(failure(xhr.status, xhr.statusText, xhr.responseText, null));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'NET', NET_MESSAGE)));
    xhr.send(file);
  });
}

// A call with a text body and answer (the iCalendar form of an object: docs/api.md "Events").
// Resolves to {text, etag}, rejects with ApiError.
export async function apiText(method, path, body, type, ifMatch) {
  const init = { method, headers: headers(), credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = type;
    init.body = body;
  }
  if (ifMatch) init.headers['If-Match'] = ifMatch;
  const { res, text } = await send(path, init);
  return { text, etag: res.headers.get('ETag') };
}

// The folders of one module I can see: mine below Private (1), the public ones below 2 and the
// ones other users share with me (below 3, one node per user), each with `who` (whose it is).
export async function moduleFolders(module) {
  const list = async (parent) => (await api('GET', `/api/v1/folders?parent=${encodeURIComponent(parent)}`)).folders;
  const [mine, pub, users] = await Promise.all([list(1), list(2), list(3)]);
  const shared = await Promise.all(users.map(async (u) =>
    (await list(u.id)).map((f) => Object.assign(f, { who: u.title }))));
  return [...mine, ...pub, ...shared.flat()].filter((f) => f.module === module)
    .sort((a, b) => (b.default === true && !b.who) - (a.default === true && !a.who));
}

// The global address book: the people of my context whose name or login contains q, as
// [{id, name, login, email}] (email '' when the API gives none). The one place that knows
// which call answers it (today GET /api/v1/users?q=, at most 128 characters).
export async function directorySearch(q) {
  const { users } = await api('GET', `/api/v1/users?q=${encodeURIComponent(q.slice(0, 128))}`);
  return users.map((u) => ({ id: u.id, name: u.display_name || u.login, login: u.login, email: u.email || '' }));
}
