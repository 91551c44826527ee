// i18n: zh-CN by default, English one click away; the choice is kept in
// localStorage.  Each module registers its own strings with
// register({zh: {...}, en: {...}}) so that no one dictionary is shared;
// t(key, vars) fills {name} placeholders from vars.
const dict = { zh: {}, en: {} };
const STORE = 'streetd.lang';
let current = null;

export function register(strings) {
  for (const lang of ['zh', 'en']) {
    for (const [k, v] of Object.entries(strings[lang] || {})) {
      if (k in dict[lang] && dict[lang][k] !== v) throw new Error('i18n: ' + k + ' registered twice');
      dict[lang][k] = v;
    }
  }
}

export function lang() {
  if (current) return current;
  let saved = null;
  try { saved = globalThis.localStorage && localStorage.getItem(STORE); } catch (e) { saved = null; }
  current = saved === 'en' ? 'en' : 'zh';
  return current;
}

export function setLang(l) {
  current = l === 'en' ? 'en' : 'zh';
  try { localStorage.setItem(STORE, current); } catch (e) { /* private mode: this page only */ }
  if (globalThis.document) document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
}

export function has(key) {
  return key in dict[lang()] || key in dict.en;
}

export function t(key, vars) {
  const s = dict[lang()][key] ?? dict.en[key] ?? key;
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

// The strings of both languages (for the unit test).
export function strings() {
  return dict;
}

// An object's name in the current language (name / name_en).
export function nameOf(o) {
  if (!o) return '';
  return (lang() === 'en' && o.name_en) ? o.name_en : (o.name ?? o.code ?? String(o.id ?? ''));
}
