// A small, typed builder for the Grafana JSON ipmpd ships: enough for its two
// dashboards, and it enforces the rules (datasource variable, title,
// description, unit on every panel).

export interface Target {
  expr: string;
  legendFormat?: string;
  format?: 'time_series' | 'heatmap';
}

export interface PanelSpec {
  title: string;
  description: string;
  type: 'timeseries' | 'stat' | 'state-timeline' | 'heatmap' | 'table';
  unit: string;
  targets: Target[];
  w?: number;
  h?: number;
  mappings?: unknown[];
  stacking?: boolean;
  /** Data links (Grafana's ${__field.labels.x} and ${var:queryparam} interpolations). */
  links?: Array<{ title: string; url: string }>;
}

const DS = { type: 'prometheus', uid: '${datasource}' };

function panel(p: PanelSpec, id: number, x: number, y: number): Record<string, unknown> {
  return {
    id,
    type: p.type,
    title: p.title,
    description: p.description,
    datasource: DS,
    gridPos: { x, y, w: p.w ?? 12, h: p.h ?? 8 },
    fieldConfig: {
      defaults: {
        unit: p.unit,
        ...(p.mappings ? { mappings: p.mappings } : {}),
        ...(p.links ? { links: p.links } : {}),
        ...(p.stacking ? { custom: { stacking: { mode: 'normal' } } } : {}),
      },
      overrides: [],
    },
    options: p.type === 'heatmap' ? { calculate: false, yAxis: { unit: p.unit } } : {},
    targets: p.targets.map((t, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DS,
      expr: t.expr,
      legendFormat: t.legendFormat ?? '',
      ...(t.format ? { format: t.format } : {}),
    })),
  };
}

/** Lay panels out left to right, two per row unless wider. */
function layout(specs: PanelSpec[]): Record<string, unknown>[] {
  let x = 0;
  let y = 0;
  let rowH = 0;
  return specs.map((s, i) => {
    const w = s.w ?? 12;
    if (x + w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    const out = panel(s, i + 1, x, y);
    x += w;
    rowH = Math.max(rowH, s.h ?? 8);
    return out;
  });
}

export function queryVariable(name: string, label: string, query: string): Record<string, unknown> {
  return {
    name,
    label,
    type: 'query',
    datasource: DS,
    query: { query, refId: name },
    definition: query,
    refresh: 2, // on time range change
    multi: true,
    includeAll: true,
    allValue: '.+',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
  };
}

/** A link in the board's header to another board, carrying the variables and the time range. */
export function boardLink(title: string, uid: string): Record<string, unknown> {
  return {
    title,
    type: 'link',
    url: `/d/${uid}`,
    icon: 'dashboard',
    includeVars: true,
    keepTime: true,
    targetBlank: false,
    tooltip: `ipmpd / ${title}`,
  };
}

const TAGS = ['ipmpd', 'ipmp'];

export function dashboard(
  uid: string,
  title: string,
  description: string,
  panels: PanelSpec[],
  variables: Record<string, unknown>[],
  extra: { annotations?: unknown[]; links?: unknown[] } = {},
): Record<string, unknown> {
  return {
    uid,
    title,
    description,
    tags: TAGS,
    editable: false,
    graphTooltip: 1, // shared crosshair: a moment on one panel is marked on all of them
    links: extra.links ?? [],
    schemaVersion: 39,
    time: { from: 'now-1h', to: 'now' },
    refresh: '30s',
    timezone: '',
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, refresh: 1 },
        ...variables,
      ],
    },
    annotations: { list: extra.annotations ?? [] },
    panels: layout(panels),
  };
}
