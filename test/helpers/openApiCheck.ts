import type { OpenApiDocument } from '@pollmasters/api';
import { Ajv2020 } from 'ajv/dist/2020.js';

/** An answer as a test got it. */
export interface Answer {
  status: number;
  contentType: string;
  /** The parsed JSON, or the text of any other type. */
  body: unknown;
}

type Operation = { responses: Record<string, { content?: Record<string, unknown> }> };

const pointer = (...parts: string[]): string =>
  `#/${parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;

/**
 * Checks answers against an OpenAPI 3.1 document: the status must be one the operation
 * declares (or its `default`), the content type the one declared for it, and a JSON body
 * valid against its schema (ajv, JSON Schema 2020-12, the document's own components).
 */
export const openApiChecker = (doc: OpenApiDocument) => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  ajv.addSchema({ ...doc, $id: 'openapi' });
  const operations = new Map<string, { path: string; method: string; op: Operation }>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const { operationId } = op as { operationId: string };
      operations.set(operationId, { path, method, op: op as Operation });
    }
  }
  return {
    operationIds: [...operations.keys()],
    /** @throws when `body` is not what the document says the webhook event `type` sends. */
    checkEvent(type: string, body: unknown): void {
      const ref = pointer(
        'webhooks',
        type,
        'post',
        'requestBody',
        'content',
        'application/json',
        'schema',
      );
      const validate = ajv.getSchema(`openapi${ref}`);
      if (!validate) throw new Error(`the document has no webhook event ${type}`);
      if (!validate(body)) {
        throw new Error(
          `event ${type} does not match the document: ${ajv.errorsText(validate.errors)}`,
        );
      }
    },
    /** @throws when the answer is not what the document says `operationId` answers. */
    check(operationId: string, answer: Answer): void {
      const found = operations.get(operationId);
      if (!found) throw new Error(`${operationId} is not in the document`);
      const { path, method, op } = found;
      const status = String(answer.status);
      const declared = status in op.responses ? status : 'default';
      const response = op.responses[declared];
      if (!response || (declared === 'default' && answer.status < 500)) {
        throw new Error(`${operationId} answered ${status}, which the document does not declare`);
      }
      const types = Object.keys(response.content ?? {});
      const type = types.find((t) => answer.contentType.startsWith(t));
      if (!type) {
        throw new Error(
          `${operationId} ${status}: content type ${answer.contentType}, not ${types}`,
        );
      }
      const ref = pointer('paths', path, method, 'responses', declared, 'content', type, 'schema');
      const validate = ajv.getSchema(`openapi${ref}`);
      if (!validate) throw new Error(`no schema at ${ref}`);
      if (!validate(answer.body)) {
        const errors = ajv.errorsText(validate.errors, { separator: '\n  ' });
        throw new Error(
          `${operationId} ${status} does not match the document:\n  ${errors}\n${JSON.stringify(answer.body).slice(0, 2000)}`,
        );
      }
    },
  };
};
