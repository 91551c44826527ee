// upload: photos from the browser as on the socket (docs/protocol.md,
// "Photos"): the file's SHA-256 (crypto.subtle), photo_begin, photo_chunk
// of at most 32 KiB decoded each, photo_end.  The server checks size and
// type (by content); its refusals come back as a message naming the file.
// photoPicker() is the form control: pick files, each uploads at once and
// shows its state; ids() is what report/resolve attach (only finished ones).
import { call } from './api.js';
import { h, replace } from './dom.js';
import { register, t } from './i18n.js';

register({
  zh: {
    'upload.label': '照片（JPEG 或 PNG）', 'upload.busy': '上传中…', 'upload.done': '已上传',
    'upload.type': '“{name}”不是 JPEG 或 PNG 图片，未附上', 'upload.size': '“{name}”过大，未附上：{detail}',
    'upload.failed': '“{name}”上传失败，未附上：{msg}', 'upload.remove': '移除', 'upload.max': '最多 9 张照片',
  },
  en: {
    'upload.label': 'photos (JPEG or PNG)', 'upload.busy': 'uploading…', 'upload.done': 'uploaded',
    'upload.type': '“{name}” is not a JPEG or PNG image: not attached', 'upload.size': '“{name}” is too large: not attached ({detail})',
    'upload.failed': '“{name}” could not be uploaded: not attached ({msg})', 'upload.remove': 'remove', 'upload.max': 'at most 9 photos',
  },
});

const CHUNK = 32768;
const TYPES = ['image/jpeg', 'image/png'];
const MAX = 9;

function hex(buf) {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return btoa(s);
}

// A user-facing Error for a file the server (or the type check) refused.
function refusal(file, e) {
  const name = file.name;
  if (e.code === 'too_large') return new Error(t('upload.size', { name, detail: e.detail }));
  if (e.code === 'bad_request' && /JPEG|PNG/.test(e.detail || '')) return new Error(t('upload.type', { name }));
  return new Error(t('upload.failed', { name, msg: e.message }));
}

// Uploads one File; resolves to the photo {id, sha256, mime, size}.
export async function uploadPhoto(file) {
  if (file.type && !TYPES.includes(file.type)) throw new Error(t('upload.type', { name: file.name }));
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const sha256 = hex(await crypto.subtle.digest('SHA-256', bytes));
    const { upload } = await call('photo_begin', { size: bytes.length, sha256 });
    for (let off = 0; off < bytes.length; off += CHUNK) {
      await call('photo_chunk', { upload, offset: off, data: base64(bytes.subarray(off, off + CHUNK)) });
    }
    return (await call('photo_end', { upload })).photo;
  } catch (e) {
    throw e.code ? refusal(file, e) : e;
  }
}

// A file input and the list of its uploads.  idPrefix names the elements
// for tests (#PREFIX-input, #PREFIX-list, li[data-state=done|error|busy]).
export function photoPicker(idPrefix) {
  const items = []; // {li, photo?, promise}
  const list = h('ul', { id: idPrefix + '-list', class: 'uploads' });
  const input = h('input', { id: idPrefix + '-input', type: 'file', multiple: true, accept: TYPES.join(','),
    on: { change: () => { for (const f of [...input.files]) add(f); input.value = ''; } } });

  function add(file) {
    const li = h('li', { dataset: { state: 'busy' } }, file.name, ' ', h('span', { class: 'muted' }, t('upload.busy')));
    list.append(li);
    const item = { li, photo: null };
    if (items.filter((x) => x.li.dataset.state !== 'error').length >= MAX) {
      li.dataset.state = 'error'; li.className = 'msg-error';
      replace(li, file.name, ' ', t('upload.max'));
      return;
    }
    items.push(item);
    item.promise = uploadPhoto(file).then((p) => {
      item.photo = p;
      li.dataset.state = 'done'; li.dataset.photo = p.id;
      replace(li, file.name, ' ', h('span', { class: 'muted' }, t('upload.done')), ' ',
        h('button', { type: 'button', class: 'link', on: { click: () => { items.splice(items.indexOf(item), 1); li.remove(); } } }, t('upload.remove')));
    }, (e) => {
      items.splice(items.indexOf(item), 1);
      li.dataset.state = 'error'; li.className = 'msg-error';
      replace(li, e.message);
    });
  }

  return {
    el: h('div', { class: 'picker' }, h('label', { for: idPrefix + '-input' }, t('upload.label')), ' ', input, list),
    // waits for uploads still running; the ids of the finished ones
    async ids() {
      await Promise.all(items.map((x) => x.promise));
      return items.filter((x) => x.photo).map((x) => x.photo.id);
    },
    clear() { items.length = 0; list.replaceChildren(); },
  };
}
