import qrcode from 'qrcode-generator';
import { useMemo } from 'react';

/**
 * The login QR as an SVG image, drawn in the page from the payload (nothing leaves the page;
 * the payload is a secret, never logged). One path of dark modules, crisp at any size.
 */
export const QrImage = ({ payload, size = 264 }: { payload: string; size?: number }) => {
  const { path, count } = useMemo(() => {
    const qr = qrcode(0, 'L');
    qr.addData(payload, 'Byte');
    qr.make();
    const n = qr.getModuleCount();
    let d = '';
    for (let row = 0; row < n; row++) {
      for (let col = 0; col < n; col++) if (qr.isDark(row, col)) d += `M${col} ${row}h1v1h-1z`;
    }
    return { path: d, count: n };
  }, [payload]);
  const margin = 4;
  const box = count + 2 * margin;
  return (
    <svg
      className="qr"
      role="img"
      aria-label="WhatsApp login QR code: scan it in WhatsApp, Linked devices"
      width={size}
      height={size}
      viewBox={`${-margin} ${-margin} ${box} ${box}`}
      shapeRendering="crispEdges"
    >
      <rect x={-margin} y={-margin} width={box} height={box} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
};
