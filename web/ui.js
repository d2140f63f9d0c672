// SPDX-License-Identifier: MIT
// DOM helpers: elements built with textContent only (nothing from the server is parsed as
// HTML), dialogs on <dialog> (focus kept inside, Escape closes), and status messages.

// el('button', {class: 'x', onclick: fn}, 'text', child…)
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function formatDate(unixSeconds) {
  if (unixSeconds === null || unixSeconds === undefined) return '';
  return new Date(unixSeconds * 1000).toLocaleString(undefined, {
    dateStyle: 'medium',
    timeStyle: 'short',
  });
}

// A message in a live region: kind is 'error' (role=alert) or 'info' (role=status).
export function message(kind, text) {
  return el('p', { class: `msg msg-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

// An error from the API in words: its message, and what to do for the usual cases.
export function errorText(error) {
  if (!error || !error.code) return String(error);
  return error.message.charAt(0).toUpperCase() + error.message.slice(1) + (
    error.message.endsWith('.') ? '' : '.');
}

// A modal dialog; build(dialog, close) returns its content. Resolves when it closes.
export function dialog(title, build) {
  return new Promise((resolve) => {
    const id = `dlg-${Math.random().toString(36).slice(2)}`;
    const d = el('dialog', { 'aria-labelledby': id, class: 'dialog' });
    const close = (value) => {
      d.close();
      d.remove();
      resolve(value);
    };
    d.addEventListener('cancel', (e) => {
      e.preventDefault();
      close(undefined);
    });
    d.append(el('h2', { id }, title), build(d, close));
    document.body.append(d);
    d.showModal();
  });
}

// A yes/no question; resolves to true when confirmed.
export function confirmDialog(title, text, yes) {
  return dialog(title, (d, close) =>
    el('div', {},
      el('p', {}, text),
      el('div', { class: 'actions' },
        el('button', { type: 'button', onclick: () => close(false) }, 'Cancel'),
        el('button', { type: 'button', class: 'danger', onclick: () => close(true) }, yes))));
}

// A one-field form; resolves to the trimmed value, or undefined when cancelled.
export function promptDialog(title, label, value, submit) {
  return dialog(title, (d, close) => {
    const input = el('input', { type: 'text', required: true, value: value || '', id: 'prompt-field' });
    const form = el('form', {
      onsubmit: (e) => {
        e.preventDefault();
        const v = input.value.trim();
        if (v) close(v);
      },
    },
    el('label', { for: 'prompt-field' }, label),
    input,
    el('div', { class: 'actions' },
      el('button', { type: 'button', onclick: () => close(undefined) }, 'Cancel'),
      el('button', { type: 'submit', class: 'primary' }, submit)));
    queueMicrotask(() => input.select());
    return form;
  });
}
