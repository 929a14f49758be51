import { describe, expect, it } from 'vitest';
import { targetSettingsSchema, type TargetSettings } from '../../src/config/schema.ts';
import type { Role } from '../../src/domain/policy.ts';
import {
  authorize,
  describePrincipals,
  matchesPrincipal,
  principalsFor,
  type Actor,
  type Permission,
} from '../../src/domain/policy.ts';
import { settings } from '../support/domain-fixtures.ts';

const actor = (name: string, roles: Role[] = []): Actor => ({ name, roles, via: 'api' });

const ops = actor('ops', ['admin']);
const alice = actor('alice', ['deployer']);
const bob = actor('bob', ['approver']);
const carol = actor('carol', ['deployer', 'approver']);
const viewer = actor('viewer');

const KNOWN = [ops, alice, bob, carol, viewer].map((a) => ({ actor: a.name, roles: a.roles }));
const PERMISSIONS: Permission[] = ['deploy', 'approve', 'rollback', 'lock', 'read'];

/** The fixture's defaults: deploy role:deployer, approve role:approver, rollback both, lock role:admin. */
const S = settings();

describe('principalsFor', () => {
  const s = settings({
    access: { deploy: ['alice', 'role:deployer'], rollback: ['role:approver'], lock: ['ops', 'bob'] },
    approval: { approvers: ['bob', 'role:admin'] },
  });

  it.each([
    { permission: 'deploy' as const, principals: ['alice', 'role:deployer'] },
    { permission: 'approve' as const, principals: ['bob', 'role:admin'] },
    { permission: 'rollback' as const, principals: ['role:approver'] },
    { permission: 'lock' as const, principals: ['ops', 'bob'] },
    { permission: 'read' as const, principals: ['*'] },
  ])('$permission → $principals', ({ permission, principals }) => {
    expect(principalsFor(permission, s)).toEqual(principals);
  });

  it('the loader defaults follow the seed: deployers deploy, approvers approve, both roll back, admins lock', () => {
    // The schema's own defaults, not the fixture's explicit lists.
    const parsed = targetSettingsSchema.parse({ platform: { scriptName: 'kevinstamp' }, productionUrl: 'https://kevinstamp.example' });
    const defaults: TargetSettings = { ...S, access: parsed.access, approval: { ...parsed.approval, fourEyes: true } };
    expect(principalsFor('deploy', defaults)).toEqual(['role:deployer']);
    expect(principalsFor('approve', defaults)).toEqual(['role:approver']);
    expect(principalsFor('rollback', defaults)).toEqual(['role:deployer', 'role:approver']);
    expect(principalsFor('lock', defaults)).toEqual(['role:admin']);
  });
});

describe('matchesPrincipal', () => {
  it.each([
    { who: alice, principal: 'alice', matches: true },
    { who: alice, principal: 'Alice', matches: false },
    { who: alice, principal: 'bob', matches: false },
    { who: alice, principal: 'role:deployer', matches: true },
    { who: alice, principal: 'role:approver', matches: false },
    { who: carol, principal: 'role:approver', matches: true },
    { who: viewer, principal: '*', matches: true },
    { who: viewer, principal: 'role:deployer', matches: false },
    // An actor called "role:deployer" is not a deployer: role principals match roles only.
    { who: actor('role:deployer'), principal: 'role:deployer', matches: false },
    // Admin is a role like the others here; authorize() is where admins get everything.
    { who: ops, principal: 'role:deployer', matches: false },
    { who: ops, principal: 'role:admin', matches: true },
  ])('$who.name vs $principal → $matches', ({ who, principal, matches }) => {
    expect(matchesPrincipal(who, principal)).toBe(matches);
  });
});

describe('authorize', () => {
  it.each(PERMISSIONS)('admins may always %s, even when no principal names them', (permission) => {
    const s = settings({ access: { deploy: ['alice'], rollback: ['alice'], lock: ['alice'] }, approval: { approvers: ['alice'] } });
    expect(authorize(ops, permission, s)).toEqual({ allowed: true });
  });

  it('an actor named as a principal is allowed; others with the same role are not', () => {
    const s = settings({ access: { deploy: ['alice'] } });
    expect(authorize(alice, 'deploy', s)).toEqual({ allowed: true });
    expect(authorize(actor('dave', ['deployer']), 'deploy', s)).toEqual({
      allowed: false,
      message: 'dave may not deploy to kevinstamp/production; allowed: alice, admins',
    });
  });

  it.each([
    { who: alice, permission: 'deploy' as const, allowed: true },
    { who: bob, permission: 'deploy' as const, allowed: false },
    { who: bob, permission: 'approve' as const, allowed: true },
    { who: alice, permission: 'approve' as const, allowed: false },
    { who: alice, permission: 'rollback' as const, allowed: true },
    { who: bob, permission: 'rollback' as const, allowed: true },
    { who: viewer, permission: 'rollback' as const, allowed: false },
    { who: carol, permission: 'lock' as const, allowed: false },
    { who: viewer, permission: 'read' as const, allowed: true },
    { who: viewer, permission: 'deploy' as const, allowed: false },
  ])('role principals: $who.name may $permission → $allowed', ({ who, permission, allowed }) => {
    expect(authorize(who, permission, S).allowed).toBe(allowed);
  });

  it("'*' allows every authenticated actor, even one with no roles", () => {
    const s = settings({ access: { deploy: ['*'] } });
    expect(authorize(viewer, 'deploy', s)).toEqual({ allowed: true });
    expect(authorize(actor('someone-new'), 'deploy', s)).toEqual({ allowed: true });
  });

  it.each([
    {
      permission: 'deploy' as const,
      who: viewer,
      message: 'viewer may not deploy to kevinstamp/production; allowed: role deployer (alice, carol), admins (ops)',
    },
    {
      permission: 'approve' as const,
      who: alice,
      message: 'alice may not approve or reject releases of kevinstamp/production; allowed: role approver (bob, carol), admins (ops)',
    },
    {
      permission: 'rollback' as const,
      who: viewer,
      message:
        'viewer may not roll back or cancel releases of kevinstamp/production; allowed: role deployer (alice, carol), role approver (bob, carol), admins (ops)',
    },
  ])('a refusal to $permission names who may, listing role holders and admins from knownActors', ({ permission, who, message }) => {
    expect(authorize(who, permission, S, KNOWN)).toEqual({ allowed: false, message });
  });

  it('a lock refusal (default: role:admin) names the admins once, not as a role and again as admins', () => {
    const result = authorize(alice, 'lock', S, KNOWN);
    expect(result.allowed).toBe(false);
    if (result.allowed) return;
    expect(result.message).toMatch(/^alice may not lock or unlock kevinstamp\/production; allowed: /);
    expect(result.message).toContain('ops');
    expect(result.message.match(/\bops\b/g)).toHaveLength(1);
  });

  it('without knownActors a refusal names the roles alone', () => {
    expect(authorize(viewer, 'rollback', S)).toEqual({
      allowed: false,
      message: 'viewer may not roll back or cancel releases of kevinstamp/production; allowed: role deployer, role approver, admins',
    });
  });

  it('names the target from the settings', () => {
    const staging = settings({}, { environment: 'staging' });
    const result = authorize(viewer, 'deploy', staging);
    expect(result.allowed).toBe(false);
    if (!result.allowed) expect(result.message).toMatch(/^viewer may not deploy to kevinstamp\/staging; /);
  });

  it('mixes names and roles in the order the settings list them', () => {
    const s = settings({ access: { deploy: ['alice', 'role:approver', 'dave'] } });
    expect(authorize(viewer, 'deploy', s, KNOWN)).toEqual({
      allowed: false,
      message: 'viewer may not deploy to kevinstamp/production; allowed: alice, role approver (bob, carol), dave, admins (ops)',
    });
  });
});

describe('describePrincipals', () => {
  it.each([
    { principals: ['*'], known: [], words: 'everyone, admins' },
    { principals: ['alice', 'bob'], known: KNOWN, words: 'alice, bob, admins (ops)' },
    { principals: ['role:deployer'], known: [], words: 'role deployer, admins' },
    { principals: ['role:deployer'], known: [{ actor: 'zed', roles: ['approver'] as Role[] }], words: 'role deployer, admins' },
    { principals: ['role:approver'], known: KNOWN, words: 'role approver (bob, carol), admins (ops)' },
  ])('$principals → $words', ({ principals, known, words }) => {
    expect(describePrincipals(principals, known)).toBe(words);
  });
});
