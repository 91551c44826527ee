// libs: Debian's Chart.js and Leaflet, served by streetd at /javascript/
// (http.js_root), loaded on first use only: the screens that need no chart
// or map never fetch them.  Chart.js's ES module imports bare names the
// package does not ship, so its UMD build is loaded as a classic script
// (a <script src> element: allowed by script-src 'self'); Leaflet's ES
// module stands alone.
const loaded = new Map();

function once(key, fn) {
  if (!loaded.has(key)) loaded.set(key, fn().catch((e) => { loaded.delete(key); throw e; }));
  return loaded.get(key);
}

function script(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.addEventListener('load', resolve);
    s.addEventListener('error', () => reject(new Error('cannot load ' + src)));
    document.head.append(s);
  });
}

function css(href) {
  return new Promise((resolve) => {
    const l = document.createElement('link');
    l.rel = 'stylesheet';
    l.href = href;
    l.addEventListener('load', resolve);
    l.addEventListener('error', resolve); // the map still works, only plainer
    document.head.append(l);
  });
}

export function chartJs() {
  return once('chart', async () => {
    await script('/javascript/chart.js/chart.min.js');
    return window.Chart;
  });
}

export function leaflet() {
  return once('leaflet', async () => {
    const [L] = await Promise.all([import('/javascript/leaflet/leaflet.esm.js'), css('/javascript/leaflet/leaflet.css')]);
    return L;
  });
}
