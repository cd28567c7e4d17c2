// Differential check: vastrack inspect --json against @dailymotion/vast-client (via
// ../shared/tools/vastjs-dump.cjs) on impressions, errors, wrapper URIs, linear durations,
// tracking per event, clicks and media files. Ads without creatives are dropped by the
// JavaScript client and kept by vastrack. usage (after make bench installed the peer):
//   VASTJS_NODE_PATH=build/node/node_modules node tools/vastjs-diff.cjs FILE...
const { execFileSync } = require('child_process');
const files = process.argv.slice(2);
const dump = JSON.parse('[' + execFileSync('node', [process.env.VASTJS_DUMP || '../shared/tools/vastjs-dump.cjs', ...files], {env: {...process.env, NODE_PATH: process.env.VASTJS_NODE_PATH}}).toString().trim().split('\n').join(',') + ']');
for (const d of dump) {
  if (!d.ok) { console.log('JS fail', d.file, d.error); continue; }
  let ours;
  try { ours = JSON.parse(execFileSync(process.env.VASTRACK || 'build/vastrack', ['inspect', '--json', d.file]).toString()); } catch (e) { console.log('OURS fail', d.file); continue; }
  const v = d.view; const diffs = [];
  const jsAds = v.ads; const ourAds = ours.ads.filter(a => a.type !== 'empty');
  if (jsAds.length !== ourAds.length) diffs.push(`ads ${jsAds.length} vs ${ourAds.length}`);
  for (let i = 0; i < Math.min(jsAds.length, ourAds.length); i++) {
    const a = jsAds[i], b = ourAds[i];
    const bi = b.impressions.filter(Boolean), be = b.errors.filter(Boolean);
    if (JSON.stringify(a.impressions) !== JSON.stringify(bi)) diffs.push(`ad${i} impressions ${JSON.stringify(a.impressions)} vs ${JSON.stringify(bi)}`);
    if (JSON.stringify(a.errors) !== JSON.stringify(be)) diffs.push(`ad${i} errors ${JSON.stringify(a.errors)} vs ${JSON.stringify(be)}`);
    if ((a.vastAdTagURI||null) !== (b.vastAdTagURI||null)) diffs.push(`ad${i} uri ${a.vastAdTagURI} vs ${b.vastAdTagURI}`);
    const jl = a.creatives.filter(c => c.type === 'linear'); const ol = b.creatives.filter(c => c.type === 'linear');
    if (jl.length !== ol.length) diffs.push(`ad${i} linear creatives ${jl.length} vs ${ol.length}`);
    for (let k = 0; k < Math.min(jl.length, ol.length); k++) {
      const x = jl[k], y = ol[k].linear;
      if (b.type === 'inline' && Math.abs((x.duration||0) - (y.duration||0)) > 0.001 && !(x.duration === -1 && y.duration === null)) diffs.push(`ad${i} c${k} duration ${x.duration} vs ${y.duration}`);
      const ty = {}; for (const t of y.tracking) { if (!t.url) continue; const ev = t.event === 'progress' ? `progress-${t.offset}` : t.event; (ty[ev] = ty[ev] || []).push(t.url); }
      const tx = x.tracking;
      const keys = new Set([...Object.keys(tx), ...Object.keys(ty)]);
      for (const key of keys) { const p = (tx[key]||[]).slice().sort(), q = (ty[key]||[]).slice().sort(); if (JSON.stringify(p) !== JSON.stringify(q)) diffs.push(`ad${i} c${k} tracking ${key}: ${p.length} vs ${q.length}`); }
      if ((x.clickThrough||null) !== (y.clickThrough||null)) diffs.push(`ad${i} c${k} clickThrough ${x.clickThrough} vs ${y.clickThrough}`);
      const ct = y.clickTracking.filter(Boolean); if (JSON.stringify(x.clickTracking) !== JSON.stringify(ct)) diffs.push(`ad${i} c${k} clickTracking ${x.clickTracking.length} vs ${ct.length}`);
      const jm = x.mediaFiles.map(m => m.url), om = y.mediaFiles.map(m => m.url);
      if (JSON.stringify(jm) !== JSON.stringify(om)) diffs.push(`ad${i} c${k} media ${JSON.stringify(jm)} vs ${JSON.stringify(om)}`);
    }
  }
  console.log(diffs.length ? 'DIFF' : 'same', d.file.replace(/.*\//, ''), diffs.slice(0, 6).join(' | '));
}
