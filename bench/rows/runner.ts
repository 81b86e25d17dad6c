// Row: 1,000 small echo fixtures through the runner, isolated (the default)
// against --no-isolation, side by side. The work is in ../runner_fixtures.ts.
import type { BenchRow, RowContext, RowReport } from "../_row.ts";
import { RUNNER_ROW, runRunnerRow } from "../runner_fixtures.ts";

const row: BenchRow = {
  id: RUNNER_ROW.id,
  title: RUNNER_ROW.title,
  order: 50,
  programs: [],
  run: (ctx: RowContext): Promise<RowReport> => runRunnerRow(ctx),
};

export default row;
