import { exchangeRead } from './exchange-object.js';
import type { ResourceType } from './types.js';

/** Inbound connectors: where partner and gateway mail enters, and whether enhanced filtering sees past it. Read-only for now. */
export const inboundConnector: ResourceType = { key: 'inboundConnector', title: 'inbound connectors', read: exchangeRead('inboundConnectors', 'Get-InboundConnector') };
