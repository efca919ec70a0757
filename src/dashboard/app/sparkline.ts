import { s, setAttr } from './dom.js';
import type { RateSample } from './store.js';

const WIDTH = 120;
const HEIGHT = 32;
/** Points across the line: one per stats poll, the newest at the right. */
const SLOTS = 60;

/** An SVG sparkline (a line over a faint area), drawn from samples by {@link updateSparkline}. */
export function sparkline(label: string): SVGSVGElement {
  return s(
    'svg',
    { class: 'spark', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label },
    s('path', { class: 'spark-area' }),
    s('path', { class: 'spark-line' }),
  );
}

/** Draw `samples` (oldest first) into a sparkline; the scale starts at 0 and fits the largest. */
export function updateSparkline(svg: SVGSVGElement, samples: readonly RateSample[]): void {
  const [area, line] = [svg.children[0], svg.children[1]];
  if (!area || !line) return;
  if (samples.length === 0) {
    setAttr(line, 'd', undefined);
    setAttr(area, 'd', undefined);
    return;
  }
  const max = Math.max(...samples.map((sample) => sample.perMinute), 0.0001);
  const step = WIDTH / (SLOTS - 1);
  const start = WIDTH - (samples.length - 1) * step;
  const points = samples.map((sample, index) => {
    const x = start + index * step;
    // A fifth of headroom: a steady rate is a line below the top, not a filled box.
    const y = HEIGHT - 2 - (sample.perMinute / (max * 1.25)) * (HEIGHT - 4);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  // One sample is no trend yet: a level line across, as the rate so far, without an area under it.
  if (points.length === 1) points.unshift(`0,${(points[0] as string).split(',')[1]}`);
  const path = `M${points.join('L')}`;
  setAttr(line, 'd', path);
  setAttr(area, 'd', samples.length < 2 ? undefined : `${path}L${WIDTH},${HEIGHT}L${(points[0] as string).split(',')[0]},${HEIGHT}Z`);
}
