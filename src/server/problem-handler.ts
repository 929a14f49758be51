import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { KevinDeployError, isKevinDeployError, toProblem } from '../errors.ts';

/** Sends an error as application/problem+json. */
export function sendProblem(reply: FastifyReply, error: KevinDeployError): FastifyReply {
  const problem = toProblem(error);
  if (error.code === 'UNAUTHENTICATED') reply.header('www-authenticate', 'Bearer realm="kevin-deploy"');
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

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
      return sendProblem(reply, new KevinDeployError('USAGE', 'send the request body as application/json'));
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(reply, new KevinDeployError('USAGE', error.message));
    }
    logger.error({ err: error, method: request.method, url: request.url }, 'unhandled error answering a request');
    return sendProblem(reply, new KevinDeployError('INTERNAL', 'kevin-deploy failed to answer; the error is in its log'));
  };
}
