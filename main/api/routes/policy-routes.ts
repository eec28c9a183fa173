import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseRequest, permissionSchema } from '../../engine/index.js';
import { principalOf } from '../authentication.js';
import type { RouteContext } from '../route-context.js';

type VaultParams = { Params: { vault_id: string } };
type PolicyParams = { Params: { vault_id: string; policy_id: string } };

const simulateRequestSchema = z.object(
  {
    principal_type: z.enum(['user', 'agent'], { error: 'must be "user" or "agent"' }),
    principal_id: z.guid({ error: 'must be the UUID of the user or agent' }),
    path: z.string({ error: 'must be a secret path such as "api-keys/openai"' }),
    permission: permissionSchema,
  },
  { error: 'must be a JSON object' },
);

/** Policies (1Claw's grants) of a vault, and Talon's simulator. */
export function registerPolicyRoutes(app: FastifyInstance, { engine, call }: RouteContext): void {
  app.post<VaultParams>('/v1/vaults/:vault_id/policies', async (request, reply) => {
    const policy = engine.policies.create(
      principalOf(request),
      request.params.vault_id,
      request.body,
      call(request),
    );
    reply.code(201);
    return policy;
  });

  app.get<VaultParams>('/v1/vaults/:vault_id/policies', async (request) => ({
    policies: engine.policies.list(principalOf(request), request.params.vault_id),
  }));

  app.put<PolicyParams>('/v1/vaults/:vault_id/policies/:policy_id', async (request) =>
    engine.policies.update(
      principalOf(request),
      request.params.vault_id,
      request.params.policy_id,
      request.body,
      call(request),
    ),
  );

  app.delete<PolicyParams>('/v1/vaults/:vault_id/policies/:policy_id', async (request, reply) => {
    engine.policies.delete(
      principalOf(request),
      request.params.vault_id,
      request.params.policy_id,
      call(request),
    );
    return reply.code(204).send();
  });

  /** Would this principal be allowed this permission on this path now, and by which policy? */
  app.post<VaultParams>('/v1/vaults/:vault_id/policies/simulate', async (request) => {
    const body = parseRequest(simulateRequestSchema, request.body, 'policy simulation');
    const decision = engine.policies.simulate(
      principalOf(request),
      request.params.vault_id,
      engine.auth.principalFor(body.principal_type, body.principal_id),
      body.path,
      body.permission,
      call(request),
    );
    return {
      allowed: decision.allowed,
      require_approval: decision.requireApproval,
      policy_id: decision.policyId,
      reason: decision.reason,
    };
  });
}
