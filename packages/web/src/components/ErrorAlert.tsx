import { errorMessage } from '../trpc';

/** A failed call's message, as the server said it (with `prefix`), read out as an alert. */
export const ErrorAlert = ({ error, prefix = '' }: { error: unknown; prefix?: string }) =>
  error ? (
    <p role="alert" className="error">
      {prefix}
      {errorMessage(error)}
    </p>
  ) : null;
