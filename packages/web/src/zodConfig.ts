import { z } from 'zod';

// The page's CSP allows no eval, and zod's compiled parsers would try one (and the browser
// would log the refusal). Imported first by ./main.tsx: before any schema of the contract.
z.config({ jitless: true });
