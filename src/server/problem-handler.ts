import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { KevinDeployError, isKevinDeployError, toProblem, type ErrorCode } from '../errors.ts';
import { tooLargeError } from './body-limit.ts';

/** Sends an error as application/problem+json. */
export function sendProblem(reply: FastifyReply, error: KevinDeployError): FastifyReply {
  const problem = toProblem(error);
  if (error.code === 'UNAUTHENTICATED') reply.header('www-authenticate', 'Bearer realm="kevin-deploy"');
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

/** fastify's 4xx errors by status, for those whose code says more than "invalid request". */
const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  431: 'HEADERS_TOO_LARGE',
};

/**
 * Every error leaves as a problem body. Known errors carry their own words; anything else is
 * logged with its stack and answered with a generic message — no stack trace reaches a user.
 */
export function problemHandler(logger: Logger) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (isKevinDeployError(error)) return sendProblem(reply, error);
    if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (error.statusCode === 400 && error instanceof SyntaxError)) {
      return sendProblem(reply, new KevinDeployError('INVALID_JSON', 'the request body is not valid JSON'));
    }
    if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return sendProblem(reply, new KevinDeployError('INVALID_JSON', 'the request body is empty; send a JSON object'));
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      const sent = request.headers['content-type'];
      const got = sent ? `; got ${JSON.stringify(sent.slice(0, 100))}` : '; the request named no Content-Type';
      return sendProblem(reply, new KevinDeployError('UNSUPPORTED_MEDIA_TYPE', `send the request body as application/json${got}`));
    }
    // fastify has already marked the connection to close (the rest of the body is never read).
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendProblem(reply, tooLargeError());
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(reply, new KevinDeployError(CODE_BY_STATUS[error.statusCode] ?? 'USAGE', error.message));
    }
    logger.error({ err: error, method: request.method, url: request.url }, 'unhandled error answering a request');
    return sendProblem(reply, new KevinDeployError('INTERNAL', 'kevin-deploy failed to answer; the error is in its log'));
  };
}

/**
 * fastify's errors from before routing (`frameworkErrors`): a path segment over `maxParamLength`
 * or a URL that cannot be decoded. fastify would answer them with its own JSON.
 */
export function frameworkErrorHandler(logger: Logger) {
  const fallback = problemHandler(logger);
  // fastify calls this for its own errors and ignores what it returns: the reply is sent, not returned.
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
      sendProblem(reply, new KevinDeployError('URI_TOO_LONG', 'a part of the URL is longer than 100 characters; no deployment id, service or environment is that long'));
    } else if (error.code === 'FST_ERR_BAD_URL') {
      sendProblem(reply, new KevinDeployError('MALFORMED_REQUEST', 'the URL cannot be decoded (a "%" must start a valid escape such as %20)'));
    } else {
      fallback(error, request, reply);
    }
  };
}
