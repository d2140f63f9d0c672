// SPDX-License-Identifier: MIT
// The mail view's reading pane (docs/webui.md): a message's headers, its attachments (saved
// through download(), since the session travels in a header), its text, and its HTML (already
// sanitised by the server) in an iframe with an empty `sandbox` (no scripts, an opaque origin)
// whose srcdoc starts with its own Content-Security-Policy: no connection at all, images from
// data: only (inline cid: images, which the server points at the attachment URL, are fetched
// here and put in as data: URLs), inline styles. A srcdoc frame also inherits the page's own
// policy (style-src 'self'), which refuses inline styles: they are dropped here rather than
// refused there. Remote images arrive as data-tandem-src ("remote_content": true) and stay out
// until "Show" puts them in as src and lets https: images through the frame's policy.
import { download } from './api.js';
import { el, errorText, formatSize, message } from './ui.js';

const ATTACHMENT_PATH = '/api/v1/mail/messages/';

export function messagePath(folder, uid) {
  return `/api/v1/mail/messages/${encodeURIComponent(folder)}/${uid}`;
}

function frameCsp(remote) {
  return `default-src 'none'; img-src data: ${window.location.origin}${ATTACHMENT_PATH}${remote ? ' https:' : ''}; style-src 'unsafe-inline'`;
}

async function dataUrl(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

// The srcdoc for html: parsed by DOMParser (an inert document: nothing runs or loads), inline
// images fetched, remote ones put in when `remote`.
async function frameDocument(html, remote) {
  // before parsing: a parsed style attribute is already refused by the page's policy
  const unstyled = html.replace(/<style[\s\S]*?<\/style\s*>/gi, '')
    .replace(/(<[a-z][^>]*?)\sstyle\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi, '$1');
  const doc = new DOMParser().parseFromString(unstyled, 'text/html');
  for (const n of doc.querySelectorAll('style, link')) n.remove();
  for (const n of doc.querySelectorAll('[style]')) n.removeAttribute('style');
  for (const img of doc.querySelectorAll('img[src]')) {
    const src = img.getAttribute('src');
    if (!src.startsWith(ATTACHMENT_PATH)) continue;
    try {
      img.setAttribute('src', await dataUrl(await download(src)));
    } catch (error) {
      img.removeAttribute('src');
    }
  }
  if (remote) {
    for (const img of doc.querySelectorAll('img[data-tandem-src]')) {
      img.setAttribute('src', img.getAttribute('data-tandem-src'));
      img.removeAttribute('data-tandem-src');
    }
  }
  const meta = doc.createElement('meta');
  meta.setAttribute('http-equiv', 'Content-Security-Policy');
  meta.setAttribute('content', frameCsp(remote));
  const base = doc.createElement('base');
  base.setAttribute('target', '_blank');
  doc.head.prepend(meta, base);
  return `<!doctype html>${doc.documentElement.outerHTML}`;
}

async function saveAttachment(folder, uid, a, status) {
  try {
    const blob = await download(`${messagePath(folder, uid)}/attachments/${encodeURIComponent(a.part)}`);
    const link = el('a', { href: URL.createObjectURL(blob), download: a.filename || 'attachment' });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  } catch (error) {
    status('error', `“${a.filename}” could not be downloaded: ${errorText(error)}`);
  }
}

// The pane's content for message m (GET …/{folder}/{uid}); actions: {edit() (a draft) or
// null, reply(all), forward(), flag(), unread(), move(), copy(), remove()}; status(kind, text)
// reports.
export async function renderMessage(pane, m, actions, status) {
  const h = m.headers || {};
  const flagged = (m.flags || []).includes('flagged');
  const line = (name, value) => (value ? el('div', { class: 'mail-hline' },
    el('dt', {}, name), el('dd', {}, value)) : null);
  const button = (text, fn, extra) => el('button', Object.assign({ type: 'button', onclick: fn }, extra || {}), text);
  const tools = el('div', { class: 'toolbar mail-actions', role: 'toolbar', 'aria-label': 'Message actions' },
    actions.edit ? button('Edit draft', () => actions.edit(), { class: 'primary' }) : null,
    button('Reply', () => actions.reply(false)),
    button('Reply all', () => actions.reply(true)),
    button('Forward', () => actions.forward()),
    button(flagged ? 'Unflag' : 'Flag', () => actions.flag(), { 'aria-pressed': flagged ? 'true' : 'false' }),
    button('Mark unread', () => actions.unread()),
    button('Move…', () => actions.move()),
    button('Copy…', () => actions.copy()),
    button('Delete', () => actions.remove(), { class: 'danger' }));
  const attachments = (m.attachments || []).length
    ? el('ul', { class: 'mail-attachments', 'aria-label': 'Attachments' }, m.attachments.map((a) => el('li', {},
      el('a', {
        href: `#mail`,
        class: 'mail-attachment',
        onclick: (e) => {
          e.preventDefault();
          saveAttachment(m.folder, m.uid, a, status);
        },
      }, a.filename || `part ${a.part}`), ` ${a.content_type}, ${formatSize(a.size)}`)))
    : null;
  const body = el('div', { class: 'mail-body' });
  pane.replaceChildren(el('article', { class: 'mail-message', 'aria-labelledby': 'mail-subject' },
    el('h2', { id: 'mail-subject' }, h.subject || m.subject || '(no subject)'),
    tools,
    el('dl', { class: 'mail-headers' },
      line('From', h.from), line('To', h.to), line('Cc', h.cc),
      line('Date', m.date ? new Date(m.date).toLocaleString() : '')),
    attachments, body));
  if (typeof m.html === 'string' && m.html) {
    const frame = el('iframe', {
      class: 'mail-html', sandbox: 'allow-popups allow-popups-to-escape-sandbox', title: 'Message content',
      referrerpolicy: 'no-referrer',
    });
    const show = async (remote) => {
      frame.srcdoc = await frameDocument(m.html, remote);
    };
    if (m.remote_content) {
      const bar = el('div', { class: 'mail-remote', role: 'status' },
        el('span', {}, 'Remote images blocked'), ' — ',
        button('Show', async () => {
          bar.remove();
          await show(true);
        }, { class: 'mail-show-remote' }));
      body.append(bar);
    }
    body.append(frame);
    await show(false);
  } else if (m.text !== null && m.text !== undefined) {
    body.append(el('pre', { class: 'mail-text' }, m.text));
    if (m.text_truncated) body.append(message('info', 'This text is longer than 1 MiB: only its start is shown.'));
  } else {
    body.append(el('p', { class: 'empty' }, 'This message has no text.'));
  }
}
