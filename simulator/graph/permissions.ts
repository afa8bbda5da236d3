/** Application permissions (any one suffices) that each Graph route accepts, as documented per API. */
export const GRAPH_PERMISSIONS = {
  caRead: ['Policy.Read.All', 'Policy.ReadWrite.ConditionalAccess'],
  caWrite: ['Policy.ReadWrite.ConditionalAccess'],
  authorizationRead: ['Policy.Read.All', 'Policy.ReadWrite.Authorization'],
  authorizationWrite: ['Policy.ReadWrite.Authorization'],
  consentRequestRead: ['Policy.Read.All', 'Policy.ReadWrite.ConsentRequest'],
  consentRequestWrite: ['Policy.ReadWrite.ConsentRequest'],
  permissionGrantPolicyRead: ['Policy.Read.PermissionGrant', 'Policy.ReadWrite.PermissionGrant', 'Policy.Read.All'],
  grantRead: ['DelegatedPermissionGrant.Read.All', 'DelegatedPermissionGrant.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  grantWrite: ['DelegatedPermissionGrant.ReadWrite.All'],
  servicePrincipalRead: ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All'],
  appRoleAssignmentWrite: ['AppRoleAssignment.ReadWrite.All'],
  domainRead: ['Domain.Read.All', 'Domain.ReadWrite.All', 'Directory.Read.All'],
  userRead: ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  groupRead: ['Group.Read.All', 'GroupMember.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All'],
  roleRead: ['RoleManagement.Read.Directory', 'RoleManagement.Read.All', 'RoleManagement.ReadWrite.Directory', 'Directory.Read.All'],
  mailboxSettingsRead: ['MailboxSettings.Read', 'MailboxSettings.ReadWrite'],
  mailboxSettingsWrite: ['MailboxSettings.ReadWrite'],
  revokeSessions: ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
  riskyUserRead: ['IdentityRiskyUser.Read.All', 'IdentityRiskyUser.ReadWrite.All'],
  riskyUserWrite: ['IdentityRiskyUser.ReadWrite.All'],
  riskDetectionRead: ['IdentityRiskEvent.Read.All'],
} as const;

/** Every permission the simulator knows, for tokens that should be able to do everything. */
export const ALL_GRAPH_PERMISSIONS: string[] = [...new Set(Object.values(GRAPH_PERMISSIONS).flat())].sort();
