import type { OptionCount } from '@pollmasters/shared';

/**
 * A poll's results as horizontal bars: the share of voters who chose each option (several
 * per voter when the poll allows), with the count in words for screen readers and eyes.
 */
export const Bars = ({ counts, voters }: { counts: OptionCount[]; voters: number }) => (
  <ul className="bars" aria-label="Results">
    {counts.map((c) => {
      const share = voters > 0 ? c.count / voters : 0;
      return (
        <li key={c.hash} data-option={c.name} data-count={c.count}>
          <div className="bar-label">
            <span>{c.name}</span>
            <span className="bar-count">
              {c.count} {c.count === 1 ? 'vote' : 'votes'} ({Math.round(share * 100)}%)
            </span>
          </div>
          <div className="bar-track" aria-hidden="true">
            <div className="bar-fill" style={{ width: `${share * 100}%` }} />
          </div>
        </li>
      );
    })}
  </ul>
);
