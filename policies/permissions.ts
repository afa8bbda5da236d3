import type { Permission } from './types.js';

const graph = (name: string): Permission => ({ api: 'graph', name });

/**
 * Every permission the catalogue names, in one place. Microsoft Graph application permissions are
 * the documented least-privileged ones for each call; Exchange Online app-only access needs the
 * Exchange.ManageAsApp app role plus a directory role (Global Reader to read, Exchange
 * Administrator to change settings).
 */
export const P = {
  policyRead: graph('Policy.Read.All'),
  policyWriteConditionalAccess: graph('Policy.ReadWrite.ConditionalAccess'),
  policyWriteAuthorization: graph('Policy.ReadWrite.Authorization'),
  policyWriteConsentRequest: graph('Policy.ReadWrite.ConsentRequest'),
  policyReadAuthenticationMethod: graph('Policy.Read.AuthenticationMethod'),
  policyWriteAuthenticationMethod: graph('Policy.ReadWrite.AuthenticationMethod'),
  auditLogRead: graph('AuditLog.Read.All'),
  domainRead: graph('Domain.Read.All'),
  userRead: graph('User.Read.All'),
  groupRead: graph('Group.Read.All'),
  applicationRead: graph('Application.Read.All'),
  grantRead: graph('DelegatedPermissionGrant.Read.All'),
  grantWrite: graph('DelegatedPermissionGrant.ReadWrite.All'),
  appRoleAssignmentWrite: graph('AppRoleAssignment.ReadWrite.All'),
  mailboxSettingsRead: graph('MailboxSettings.Read'),
  mailboxSettingsWrite: graph('MailboxSettings.ReadWrite'),
  exchangeManage: { api: 'exchange', name: 'Exchange.ManageAsApp' } as Permission,
  exchangeReader: { api: 'entra-role', name: 'Global Reader' } as Permission,
  exchangeAdmin: { api: 'entra-role', name: 'Exchange Administrator' } as Permission,
  // Incident response.
  alertRead: graph('SecurityAlert.Read.All'),
  riskEventRead: graph('IdentityRiskEvent.Read.All'),
  riskyUserRead: graph('IdentityRiskyUser.Read.All'),
  riskyUserWrite: graph('IdentityRiskyUser.ReadWrite.All'),
  roleRead: graph('RoleManagement.Read.Directory'),
  groupMemberRead: graph('GroupMember.Read.All'),
  groupMemberWrite: graph('GroupMember.ReadWrite.All'),
  revokeSessions: graph('User.RevokeSessions.All'),
  userWrite: graph('User.ReadWrite.All'),
  authMethodWrite: graph('UserAuthenticationMethod.ReadWrite.All'),
  analyzedMessageRead: graph('SecurityAnalyzedMessage.Read.All'),
  analyzedMessageWrite: graph('SecurityAnalyzedMessage.ReadWrite.All'),
  /** `posture probe` confirms each test message's disposition in message trace. */
  messageTraceRead: graph('ExchangeMessageTrace.Read.All'),
  calendarRead: graph('Calendars.Read'),
  calendarWrite: graph('Calendars.ReadWrite'),
  auditLogQueryRead: graph('AuditLogsQuery.Read.All'),
  /** Setting another user's passwordProfile needs a directory role besides User.ReadWrite.All. */
  userAdmin: { api: 'entra-role', name: 'User Administrator' } as Permission,
} as const;

/** Permissions sorted and de-duplicated, for the union over several controls. */
export function unionPermissions(lists: Iterable<readonly Permission[]>): Permission[] {
  const byKey = new Map<string, Permission>();
  for (const list of lists) for (const p of list) byKey.set(`${p.api}:${p.name}`, p);
  return [...byKey.values()].sort((a, b) => a.api.localeCompare(b.api) || a.name.localeCompare(b.name));
}
