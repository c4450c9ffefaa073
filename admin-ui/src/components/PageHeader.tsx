/** A screen's title row: the title (with an optional line above it) and something on the right. */
import type { ComponentChildren } from 'preact';

export function PageHeader({ title, above, children }: { title: string; above?: ComponentChildren; children?: ComponentChildren }) {
  return (
    <div class="page-header">
      <div class="page-title">
        {above !== undefined && <div class="crumbs">{above}</div>}
        <h1>{title}</h1>
      </div>
      {children !== undefined && <div class="page-aside">{children}</div>}
    </div>
  );
}
