// SPDX-License-Identifier: MIT
// The mail view's message list (docs/webui.md): a virtual list that stays fast on a folder of
// 100,000 messages. Only the rows in sight (and a few either side) are in the DOM, placed
// absolutely inside a spacer as tall as the whole folder; the messages come in pages of
// PAGE by offset/limit (GET /api/v1/mail/messages) as the list scrolls, kept in a page cache
// of at most CACHE_PAGES pages. It is a listbox: the arrow keys, Home/End and Page Up/Down move
// the active row (aria-activedescendant), Enter opens it, Delete deletes it; a row dragged onto a
// folder moves the message there (MAIL_DRAG carries {folder, uid}).
import { api } from './api.js';
import { el, errorText, message } from './ui.js';

export const MAIL_DRAG = 'application/x-tandem-mail';
const ROW = 56; // px, as .mail-row in app.css
const PAGE = 100;
const CACHE_PAGES = 40;
const EXTRA = 8; // rows rendered beyond each edge of the viewport

export function shortDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const today = new Date();
  return d.toDateString() === today.toDateString()
    ? d.toLocaleTimeString(undefined, { timeStyle: 'short' })
    : d.toLocaleDateString(undefined, { dateStyle: 'medium' });
}

export const sender = (m) => (m.from && (m.from.name || m.from.email)) || '(unknown sender)';

// createMailList({onOpen(msg), onDelete(msg), onStatus(kind, text)}) -> the list's API:
// node (the element), show(query), refresh(), update(uid, fields), active().
// query: {folder, sort, order, q, in, thread}.
export function createMailList(hooks) {
  const spacer = el('div', { class: 'mail-spacer' });
  const box = el('div', {
    class: 'mail-rows', role: 'listbox', tabindex: '0', 'aria-label': 'Messages',
  }, spacer);
  const state = el('div', { class: 'mail-list-state' });
  const node = el('div', { class: 'mail-list' }, state, box);
  let query = null;
  let total = 0;
  let gen = 0; // bumped on every new query: answers of older ones are dropped
  let pages = new Map(); // page number -> messages
  let pending = new Map(); // page number -> promise
  let activeIndex = -1;
  let frame = 0;

  function pageOf(i) {
    return Math.floor(i / PAGE);
  }

  function item(i) {
    const p = pages.get(pageOf(i));
    return p ? p[i % PAGE] : undefined;
  }

  function url(offset, limit) {
    const params = new URLSearchParams({
      folder: query.folder, sort: query.sort, order: query.order, offset, limit,
    });
    if (query.q) {
      params.set('q', query.q);
      if (query.in && query.in !== 'all') params.set('in', query.in);
    }
    if (query.thread) params.set('thread', '1');
    return `/api/v1/mail/messages?${params}`;
  }

  // Page p into the cache (once at a time); the furthest pages from it leave the cache.
  function load(p) {
    if (pages.has(p) || pending.has(p)) return pending.get(p);
    const mine = gen;
    const promise = api('GET', url(p * PAGE, PAGE)).then((answer) => {
      if (mine !== gen) return;
      pending.delete(p);
      pages.set(p, answer.messages);
      if (answer.total !== total) setTotal(answer.total);
      while (pages.size > CACHE_PAGES) {
        let far = null;
        for (const k of pages.keys()) if (far === null || Math.abs(k - p) > Math.abs(far - p)) far = k;
        pages.delete(far);
      }
      schedule();
    }, (error) => {
      if (mine !== gen) return;
      pending.delete(p);
      hooks.onStatus('error', `Messages could not be loaded: ${errorText(error)}`);
    });
    pending.set(p, promise);
    return promise;
  }

  function setTotal(n) {
    total = n;
    spacer.style.height = `${total * ROW}px`;
    box.setAttribute('aria-label', `Messages, ${total}`);
    if (total === 0) {
      state.replaceChildren(el('p', { class: 'empty' },
        query.q ? `No message matches “${query.q}”.` : 'No messages in this folder.'));
    } else {
      state.replaceChildren();
    }
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function rowId(i) {
    return `mail-row-${i}`;
  }

  function row(i, m) {
    const unread = m && !m.flags.includes('seen');
    const flagged = m && m.flags.includes('flagged');
    const attrs = {
      id: rowId(i),
      role: 'option',
      class: `mail-row${unread ? ' unread' : ''}${i === activeIndex ? ' active' : ''}`,
      'aria-selected': i === activeIndex ? 'true' : 'false',
      'aria-setsize': total,
      'aria-posinset': i + 1,
      'data-index': i,
    };
    // placed through the CSSOM: the page's CSP (style-src 'self') refuses style attributes
    const placed = (node) => {
      node.style.top = `${i * ROW}px`;
      if (m && query.thread && m.depth) node.style.paddingLeft = `${Math.min(m.depth, 8) * 1.2 + 0.6}rem`;
      return node;
    };
    if (!m) return placed(el('div', attrs, el('span', { class: 'muted' }, 'Loading…')));
    attrs.draggable = 'true';
    const r = placed(el('div', attrs,
      el('span', { class: 'mail-from' }, unread ? el('span', { class: 'visually-hidden' }, 'Unread, ') : null,
        flagged ? el('span', { class: 'mail-flag', 'aria-label': 'Flagged, ' }, '⚑ ') : null, sender(m)),
      el('span', { class: 'mail-date' }, shortDate(m.date)),
      el('span', { class: 'mail-subject' }, m.subject || '(no subject)')));
    r.addEventListener('dragstart', (e) => {
      e.dataTransfer.setData(MAIL_DRAG, JSON.stringify({ folder: query.folder, uid: m.uid }));
      e.dataTransfer.setData('text/plain', m.subject || '');
      e.dataTransfer.effectAllowed = 'move';
    });
    return r;
  }

  function draw() {
    frame = 0;
    if (!query) return;
    const first = Math.max(0, Math.floor(box.scrollTop / ROW) - EXTRA);
    const last = Math.min(total, Math.ceil((box.scrollTop + box.clientHeight) / ROW) + EXTRA);
    for (let p = pageOf(first); p <= pageOf(Math.max(first, last - 1)) && p * PAGE < total; p++) load(p);
    const rows = [];
    for (let i = first; i < last; i++) rows.push(row(i, item(i)));
    // the active row stays in the DOM for aria-activedescendant even when scrolled away
    if (activeIndex >= 0 && (activeIndex < first || activeIndex >= last) && activeIndex < total) {
      rows.push(row(activeIndex, item(activeIndex)));
    }
    spacer.replaceChildren(...rows);
    if (activeIndex >= 0 && activeIndex < total) box.setAttribute('aria-activedescendant', rowId(activeIndex));
    else box.removeAttribute('aria-activedescendant');
  }

  function activate(i, open) {
    if (total === 0) return;
    activeIndex = Math.max(0, Math.min(total - 1, i));
    const top = activeIndex * ROW;
    if (top < box.scrollTop) box.scrollTop = top;
    else if (top + ROW > box.scrollTop + box.clientHeight) box.scrollTop = top + ROW - box.clientHeight;
    draw();
    const m = item(activeIndex);
    if (open && m) hooks.onOpen(m);
  }

  box.addEventListener('scroll', schedule, { passive: true });
  window.addEventListener('resize', schedule);
  box.addEventListener('click', (e) => {
    const r = e.target.closest('.mail-row');
    if (r) activate(Number(r.dataset.index), true);
  });
  box.addEventListener('keydown', (e) => {
    const visible = Math.max(1, Math.floor(box.clientHeight / ROW));
    const keys = {
      ArrowDown: activeIndex + 1, ArrowUp: activeIndex - 1, Home: 0, End: total - 1,
      PageDown: activeIndex + visible, PageUp: activeIndex - visible,
    };
    if (e.key in keys) {
      e.preventDefault();
      activate(activeIndex < 0 ? 0 : keys[e.key], false);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      activate(activeIndex < 0 ? 0 : activeIndex, true);
    } else if (e.key === 'Delete' && activeIndex >= 0 && item(activeIndex)) {
      e.preventDefault();
      hooks.onDelete(item(activeIndex));
    }
  });

  return {
    node,
    // A new listing (folder, sort, search or thread changed): back to the top.
    show(q) {
      query = q;
      gen++;
      pages = new Map();
      pending = new Map();
      activeIndex = -1;
      total = 0;
      spacer.style.height = '0px';
      spacer.replaceChildren();
      box.scrollTop = 0;
      state.replaceChildren(el('p', { class: 'loading', role: 'status' }, 'Loading messages…'));
      const mine = gen;
      load(0).then(() => {
        if (mine === gen && total === 0) setTotal(0); // an empty folder: load() saw no change
      });
    },
    // The same listing again (new mail, a message moved away): the scroll position stays.
    refresh() {
      if (!query) return;
      gen++;
      pages = new Map();
      pending = new Map();
      const mine = gen;
      load(pageOf(Math.floor(box.scrollTop / ROW))).then(() => {
        if (mine === gen && total === 0) setTotal(0);
      });
    },
    // Fields of one cached message changed (flags after a PATCH).
    update(uid, fields) {
      for (const p of pages.values()) {
        const m = p.find((x) => x.uid === uid);
        if (m) Object.assign(m, fields);
      }
      schedule();
    },
    error(text) {
      state.replaceChildren(message('error', text));
    },
    get query() {
      return query;
    },
  };
}
