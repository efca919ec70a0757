import type { TerminalStatus } from '../../job.js';
import type { DurationSummary, PluginStats } from '../../tracker/duration-stats.js';
import { h, s, setAttr, setText } from './dom.js';
import { formatCount, formatDuration, formatRate } from './format.js';
import { sparkline, updateSparkline } from './sparkline.js';
import type { RateSample } from './store.js';

const ENDINGS: readonly TerminalStatus[] = ['completed', 'failed', 'cancelled'];
const EMPTY: PluginStats = {
  finished: { completed: 0, failed: 0, cancelled: 0 },
  queueWaitMs: { count: 0, p50: 0, p95: 0, p99: 0 },
  runMs: { count: 0, p50: 0, p95: 0, p99: 0 },
};

/** A p50/p95 range bar: a solid part to p50, a lighter one to p95, on a shared scale. */
function rangeBar(kind: 'run' | 'wait'): { row: HTMLElement; update(summary: DurationSummary, scale: number): void } {
  const p95 = s('rect', { class: 'range-p95', x: 0, y: 0, height: 8, width: 0 });
  const p50 = s('rect', { class: 'range-p50', x: 0, y: 0, height: 8, width: 0 });
  const svg = s('svg', { class: `range range--${kind}`, viewBox: '0 0 100 8', preserveAspectRatio: 'none', 'aria-hidden': 'true' }, s('rect', { class: 'range-track', x: 0, y: 0, width: 100, height: 8 }), p95, p50);
  const values = h('span', { class: 'range-values', 'data-testid': `${kind}-durations` });
  const row = h('div', { class: 'range-row', title: kind === 'run' ? 'Run time, p50 and p95' : 'Time waiting in the queue, p50 and p95' }, h('div', { class: 'range-head' }, h('span', { class: 'range-label' }, kind === 'run' ? 'Run' : 'Wait'), values), svg);
  return {
    row,
    update(summary, scale) {
      setAttr(p50, 'width', (scale > 0 ? (summary.p50 / scale) * 100 : 0).toFixed(2));
      setAttr(p95, 'width', (scale > 0 ? (summary.p95 / scale) * 100 : 0).toFixed(2));
      setText(values, summary.count === 0 ? '—' : `p50 ${formatDuration(summary.p50)} · p95 ${formatDuration(summary.p95)}`);
    },
  };
}

/** The jobs that ended, as one bar split by ending, with the counts beside it. */
function endingsBar(): { element: HTMLElement; update(finished: Record<TerminalStatus, number>): void } {
  const rects = ENDINGS.map((status) => s('rect', { class: `seg seg--${status}`, y: 0, height: 6, x: 0, width: 0 }));
  const svg = s('svg', { class: 'endings', viewBox: '0 0 100 6', preserveAspectRatio: 'none', 'aria-hidden': 'true' }, s('rect', { class: 'range-track', x: 0, y: 0, width: 100, height: 6 }), ...rects);
  const counts = ENDINGS.map((status) => h('span', { class: 'legend-value', 'data-testid': `ended-${status}` }, '0'));
  const legend = h(
    'div',
    { class: 'legend' },
    ...ENDINGS.map((status, index) => h('div', { class: 'legend-item', 'data-status': status }, counts[index] as HTMLElement, h('span', { class: 'legend-label' }, status))),
  );
  return {
    element: h('div', { class: 'endings-wrap' }, svg, legend),
    update(finished) {
      const total = ENDINGS.reduce((sum, status) => sum + finished[status], 0);
      let x = 0;
      ENDINGS.forEach((status, index) => {
        const width = total > 0 ? (finished[status] / total) * 100 : 0;
        const rect = rects[index] as SVGRectElement;
        setAttr(rect, 'x', x.toFixed(2));
        setAttr(rect, 'width', width.toFixed(2));
        x += width;
        setText(counts[index] as HTMLElement, formatCount(finished[status]));
      });
    },
  };
}

/** One plugin's card: throughput and its sparkline, how jobs ended, run time and queue wait (p50/p95). */
export function pluginCard(name: string, title: string, onPick: (plugin: string) => void): { element: HTMLElement; update(stats: PluginStats | undefined, windowMs: number, samples: readonly RateSample[]): void } {
  const rate = h('span', { class: 'pc-rate-value', 'data-testid': 'plugin-rate' }, '0');
  const spark = sparkline(`Throughput of ${title}`);
  const endings = endingsBar();
  const run = rangeBar('run');
  const wait = rangeBar('wait');
  const windowNote = h('span', { class: 'pc-window' });
  const element = h(
    'article',
    { class: 'plugin-card', 'data-plugin': name, 'data-testid': 'plugin-card' },
    h(
      'header',
      { class: 'pc-head' },
      h('button', { type: 'button', class: 'pc-title', title: `Show ${title} jobs`, onclick: () => onPick(name) }, title),
      title === name ? null : h('code', { class: 'pc-name' }, name),
    ),
    h('div', { class: 'pc-rate' }, h('div', {}, rate, h('span', { class: 'pc-unit' }, ' /min'), windowNote), spark),
    endings.element,
    h('div', { class: 'pc-ranges' }, run.row, wait.row),
  );
  return {
    element,
    update(stats = EMPTY, windowMs, samples) {
      const minutes = windowMs / 60_000;
      const ended = stats.finished.completed + stats.finished.failed + stats.finished.cancelled;
      setText(rate, formatRate(ended / minutes));
      setText(windowNote, `last ${Math.round(minutes)} min`);
      updateSparkline(spark, samples);
      endings.update(stats.finished);
      const scale = Math.max(stats.runMs.p95, stats.queueWaitMs.p95) * 1.05;
      run.update(stats.runMs, scale);
      wait.update(stats.queueWaitMs, scale);
    },
  };
}
