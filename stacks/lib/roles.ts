/**
 * Directory role template ids (the same in every tenant) for the roles the privileged tier covers by
 * default. Source: Microsoft Entra built-in roles reference.
 */
export const ROLE_TEMPLATE_IDS = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  privilegedRoleAdministrator: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  privilegedAuthenticationAdministrator: '7be44c8a-adaf-4e2a-84d6-ab2649e08a13',
  securityAdministrator: '194ae4cb-b126-40b2-bd5b-6091b380977d',
  exchangeAdministrator: '29232cdf-9323-42fd-ade2-1d097af3e4de',
  conditionalAccessAdministrator: 'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9',
  applicationAdministrator: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
  cloudApplicationAdministrator: '158c047a-c907-4556-b7ef-446551a6b5f7',
  userAdministrator: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  authenticationAdministrator: 'c4e39bd9-1100-46d3-8c65-fb160da0071f',
  helpdeskAdministrator: '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  sharePointAdministrator: 'f28a1f50-f6e7-4571-818b-6a12f2af6b6c',
  billingAdministrator: 'b0f54661-2d74-4c50-afa3-1ec803f12efe',
} as const;

/** The roles the privileged tier (ID.CA.3) includes when the posture names none. */
export const DEFAULT_PRIVILEGED_ROLES: readonly string[] = [
  ROLE_TEMPLATE_IDS.globalAdministrator,
  ROLE_TEMPLATE_IDS.privilegedRoleAdministrator,
  ROLE_TEMPLATE_IDS.privilegedAuthenticationAdministrator,
  ROLE_TEMPLATE_IDS.securityAdministrator,
  ROLE_TEMPLATE_IDS.exchangeAdministrator,
  ROLE_TEMPLATE_IDS.conditionalAccessAdministrator,
  ROLE_TEMPLATE_IDS.applicationAdministrator,
  ROLE_TEMPLATE_IDS.cloudApplicationAdministrator,
  ROLE_TEMPLATE_IDS.userAdministrator,
  ROLE_TEMPLATE_IDS.authenticationAdministrator,
  ROLE_TEMPLATE_IDS.helpdeskAdministrator,
  ROLE_TEMPLATE_IDS.sharePointAdministrator,
];
