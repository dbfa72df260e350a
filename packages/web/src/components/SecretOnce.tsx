import { useRef, useState } from 'react';

/**
 * A webhook's signing secret, just made (a new endpoint, or a rotation): the server answers it
 * this once and never again, so the page says so and offers to copy it.
 */
export const SecretOnce = ({ secret, onDone }: { secret: string; onDone: () => void }) => {
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('yes');
    } catch {
      // No clipboard (a plain-http page, or refused): select it for the person to copy.
      field.current?.select();
      setCopied('no');
    }
  };
  return (
    <section className="panel secret" role="status" aria-label="Signing secret">
      <h3>Signing secret</h3>
      <p>
        <strong>Copy it now: you will not see this again.</strong> Give it to your receiver to
        verify the <code>webhook-signature</code> of each request.
      </p>
      <div className="secret-row">
        <input
          ref={field}
          className="code-input"
          aria-label="Signing secret"
          readOnly
          value={secret}
          onFocus={(e) => e.target.select()}
        />
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      {copied === 'yes' ? <p className="ok">Copied to the clipboard.</p> : null}
      {copied === 'no' ? <p className="hint">Selected: press Ctrl+C (⌘C) to copy it.</p> : null}
      <button type="button" className="secondary" onClick={onDone}>
        I have saved it
      </button>
    </section>
  );
};
