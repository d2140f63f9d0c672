// SPDX-License-Identifier: MIT
// The mail view's compose dialog (docs/webui.md): to/cc/bcc with suggestions from the global
// address book (directorySearch()), subject, text, attachments uploaded (POST
// /api/v1/mail/attachments) or picked from my files (the files view's folder picker, then the
// folder's files), send (POST /api/v1/mail/send) and save as draft (POST /api/v1/mail/drafts).
// A send that fails says why and that the message was kept as a draft (the answer's "draft").
// Reply, reply all and forward open it prefilled from GET …/reply?all= and …/forward.
import { api, directorySearch, upload } from './api.js';
import { pickFolder } from './files.js';
import { dialog, el, errorText, formatSize, message } from './ui.js';

const ADDRESS = /^[^\s@<>,]+@[^\s@<>,]+$/;

// "Ann <a@x>, b@y" -> ["Ann <a@x>", "b@y"]; bad holds the parts that are no address.
export function parseAddresses(text) {
  const list = text.split(/[,;\n]/).map((s) => s.trim()).filter((s) => s);
  const bad = list.filter((s) => {
    const m = s.match(/<([^<>]+)>$/);
    return !ADDRESS.test(m ? m[1] : s);
  });
  return { list, bad };
}

const joinAddresses = (list) => (list || []).map((a) => (typeof a === 'string' ? a
  : (a.name ? `${a.name} <${a.email}>` : a.email))).join(', ');

// An address field whose last entry is completed from the directory (a datalist of
// "what was typed before, Name <email>").
function addressField(id, label, value) {
  const listId = `${id}-list`;
  const input = el('input', {
    id, type: 'text', value, autocomplete: 'off', list: listId, 'aria-describedby': 'mc-addr-hint',
  });
  const options = el('datalist', { id: listId });
  let timer = null;
  let seq = 0;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const parts = input.value.split(',');
      const last = parts.pop().trim();
      if (last.length < 2 || last.includes('@')) return;
      const mine = ++seq;
      let people = [];
      try {
        people = await directorySearch(last);
      } catch (error) {
        return; // suggestions are a help only
      }
      if (mine !== seq) return;
      const before = parts.map((s) => s.trim()).filter((s) => s).join(', ');
      options.replaceChildren(...people.filter((p) => p.email).slice(0, 10).map((p) =>
        el('option', { value: `${before ? `${before}, ` : ''}${p.name} <${p.email}>` })));
    }, 200);
  });
  return { input, node: el('div', { class: 'field' }, el('label', { for: id }, label), input, options) };
}

// My files in a folder I pick: resolves to [{id, title, size}] or [] when cancelled.
async function pickFiles() {
  const folder = await pickFolder('Attach from my files', 'Open', () => true);
  if (!folder) return [];
  const { files } = await api('GET', `/api/v1/files?folder=${folder.id}`);
  const chosen = await dialog(`Files in ${folder.title}`, (d, close) => {
    const boxes = files.map((f, i) => el('div', { class: 'check' },
      el('input', { type: 'checkbox', id: `mc-file-${i}`, value: i }),
      el('label', { for: `mc-file-${i}` }, `${f.title || f.name} (${formatSize(f.size || 0)})`)));
    return el('form', {
      onsubmit: (e) => {
        e.preventDefault();
        close(boxes.map((b) => b.querySelector('input')).filter((b) => b.checked).map((b) => files[Number(b.value)]));
      },
    },
    el('fieldset', { class: 'picker' }, el('legend', {}, 'Files'),
      boxes.length ? boxes : el('p', { class: 'empty' }, 'No files in this folder.')),
    el('div', { class: 'actions' },
      el('button', { type: 'button', onclick: () => close([]) }, 'Cancel'),
      el('button', { type: 'submit', class: 'primary' }, 'Attach')));
  });
  return (chosen || []).map((f) => ({ id: f.id, title: f.title || f.name, size: f.size || 0 }));
}

// The dialog; prefill is a /send body (from …/reply or …/forward) or {}. Resolves to
// 'sent', or undefined when closed (a draft saved meanwhile stays in Drafts).
export function composeDialog(prefill, title) {
  const p = prefill || {};
  const to = addressField('mc-to', 'To', joinAddresses(p.to));
  const cc = addressField('mc-cc', 'Cc', joinAddresses(p.cc));
  const bcc = addressField('mc-bcc', 'Bcc', joinAddresses(p.bcc));
  const subject = el('input', { id: 'mc-subject', type: 'text', value: p.subject || '' });
  const text = el('textarea', { id: 'mc-text', rows: '8' });
  text.value = p.text || '';
  // attachments: {label, size, ref} with ref as the /send body takes it (the prefill's may
  // carry a filename and size to show besides)
  const attached = (p.attachments || []).map((a) => ({
    label: a.filename || a.name || (a.message ? `part ${a.message.part}` : 'attachment'),
    size: a.size,
    ref: a.message ? { message: a.message } : a,
  }));
  const list = el('ul', { class: 'mail-attachments', 'aria-label': 'Attached' });
  const problem = el('div', { 'aria-live': 'assertive' });
  let draft = p.draft || null;
  const say = (kind, t) => {
    problem.replaceChildren(message(kind, t));
    problem.scrollIntoView({ block: 'nearest' });
  };

  function drawAttached() {
    list.replaceChildren(...attached.map((a, i) => el('li', {},
      `${a.label}${a.size ? ` (${formatSize(a.size)})` : ''} `,
      el('button', {
        type: 'button',
        'aria-label': `Remove ${a.label}`,
        onclick: () => {
          attached.splice(i, 1);
          drawAttached();
        },
      }, 'Remove'))));
  }
  drawAttached();

  const picker = el('input', {
    type: 'file', multiple: true, id: 'mc-upload', class: 'visually-hidden', tabindex: '-1', 'aria-label': 'Files to attach',
  });
  picker.addEventListener('change', async () => {
    for (const file of [...picker.files]) {
      say('info', `Uploading “${file.name}”…`);
      try {
        const up = await upload(`/api/v1/mail/attachments?name=${encodeURIComponent(file.name)}`, file, () => {}, 'POST');
        attached.push({ label: up.name || file.name, size: up.size, ref: { upload: up.id } });
        drawAttached();
        problem.replaceChildren();
      } catch (error) {
        say('error', `“${file.name}” was not attached: ${errorText(error)}`);
      }
    }
    picker.value = '';
  });

  // The /send or /drafts body, or null after saying which address is wrong.
  function body() {
    const fields = { to: parseAddresses(to.input.value), cc: parseAddresses(cc.input.value), bcc: parseAddresses(bcc.input.value) };
    for (const [name, f] of Object.entries(fields)) {
      if (f.bad.length) {
        say('error', `“${f.bad[0]}” in ${name[0].toUpperCase()}${name.slice(1)} is not an e-mail address.`);
        return null;
      }
    }
    const b = {
      to: fields.to.list, cc: fields.cc.list, bcc: fields.bcc.list, subject: subject.value, text: text.value,
      attachments: attached.map((a) => a.ref),
    };
    for (const k of ['in_reply_to', 'forward_of']) if (p[k]) b[k] = p[k];
    if (draft) b.draft = draft;
    return b;
  }

  return dialog(title || 'New message', (d, close) => {
    d.classList.add('mail-compose');
    let busy = false;
    async function send(e) {
      e.preventDefault();
      if (busy) return;
      const b = body();
      if (!b) return;
      if (!b.to.length && !b.cc.length && !b.bcc.length) {
        say('error', 'Give at least one recipient in To, Cc or Bcc.');
        to.input.focus();
        return;
      }
      busy = true;
      say('info', 'Sending…');
      try {
        await api('POST', '/api/v1/mail/send', b);
        close('sent');
      } catch (error) {
        const kept = error.body && (error.body.draft || (error.body.error && error.body.error.draft));
        if (kept) draft = kept;
        // the server's reason may start with its own "Not sent (kept in Drafts): "
        const reason = errorText(error).replace(/^not sent[^:]*:\s*/i, '');
        say('error', `Not sent: ${reason}${kept ? ` Your message was kept as a draft in ${kept.folder}.` : ''}`);
      } finally {
        busy = false;
      }
    }
    async function saveDraft() {
      const b = body();
      if (!b) return;
      try {
        draft = await api('POST', '/api/v1/mail/drafts', b);
        say('info', `Saved as a draft in ${draft.folder}.`);
      } catch (error) {
        say('error', `The draft was not saved: ${errorText(error)}`);
      }
    }
    async function fromFiles() {
      try {
        for (const f of await pickFiles()) {
          attached.push({ label: f.title, size: f.size, ref: { file: f.id } });
        }
        drawAttached();
      } catch (error) {
        say('error', errorText(error));
      }
    }
    queueMicrotask(() => (to.input.value ? text : to.input).focus());
    return el('form', { class: 'mc-form', onsubmit: send },
      el('p', { class: 'hint', id: 'mc-addr-hint' }, 'Separate addresses with commas; names from your organisation are suggested.'),
      to.node, cc.node, bcc.node,
      el('div', { class: 'field' }, el('label', { for: 'mc-subject' }, 'Subject'), subject),
      el('div', { class: 'field' }, el('label', { for: 'mc-text' }, 'Message'), text),
      el('div', { class: 'toolbar' },
        el('button', { type: 'button', onclick: () => picker.click() }, 'Attach files'),
        el('button', { type: 'button', onclick: fromFiles }, 'Attach from my files'), picker),
      list, problem,
      el('div', { class: 'actions' },
        el('button', { type: 'button', onclick: () => close(undefined) }, 'Close'),
        el('button', { type: 'button', onclick: saveDraft }, 'Save draft'),
        el('button', { type: 'submit', class: 'primary' }, 'Send')));
  });
}
