// Sluice on Azure: one Function App (Node 20, programming model v4) with Durable Functions on Azure
// Storage, a Cosmos DB (NoSQL) serverless account, and Application Insights.
// Deploy: see infra/README.md. The same app code runs locally under `npm start`.

@description('Base name for every resource (3-11 lowercase letters and digits).')
@minLength(3)
@maxLength(11)
param name string = 'sluice'

@description('Azure region.')
param location string = resourceGroup().location

@description('Elastic Premium plan size. Durable orchestrations and long polling need an always-ready instance.')
@allowed(['EP1', 'EP2', 'EP3'])
param planSku string = 'EP1'

@description('JSON map of compute targets: name -> { pool, environment }. Agents on other machines serve the pools.')
param computeTargets string = '{"local":{"pool":"local","environment":{}}}'

var suffix = uniqueString(resourceGroup().id)
var storageName = toLower('${name}${take(suffix, 13)}')

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: { isVersioningEnabled: false }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for c in ['snapshots', 'artifacts', 'logs']: {
    parent: blobService
    name: c
  }
]

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' = {
  name: '${name}-cosmos-${take(suffix, 6)}'
  location: location
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    consistencyPolicy: { defaultConsistencyLevel: 'Session' }
    locations: [{ locationName: location, failoverPriority: 0 }]
    capabilities: [{ name: 'EnableServerless' }]
  }
}

resource db 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-05-15' = {
  parent: cosmos
  name: 'sluice'
  properties: { resource: { id: 'sluice' } }
}

// Containers and partition keys: the README's architecture section explains each choice.
var cosmosContainers = [
  { id: 'pipelines', pk: '/name' }
  { id: 'runs', pk: '/runId' }
  { id: 'cache', pk: '/key' }
  { id: 'datasets', pk: '/name' }
  { id: 'lineage', pk: '/hash' }
  { id: 'schedules', pk: '/name' }
  { id: 'triggerlog', pk: '/source' }
]

resource cosmosContainerRes 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-05-15' = [
  for c in cosmosContainers: {
    parent: db
    name: c.id
    properties: {
      resource: {
        id: c.id
        partitionKey: { paths: [c.pk], kind: 'Hash' }
      }
    }
  }
]

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${name}-ai'
  location: location
  kind: 'web'
  properties: { Application_Type: 'web' }
}

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: '${name}-plan'
  location: location
  sku: { name: planSku, tier: 'ElasticPremium' }
  kind: 'elastic'
  properties: { reserved: true }
}

var storageConnection = 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'

resource site 'Microsoft.Web/sites@2023-12-01' = {
  name: '${name}-${take(suffix, 8)}'
  location: location
  kind: 'functionapp,linux'
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      linuxFxVersion: 'Node|20'
      minTlsVersion: '1.2'
      appSettings: [
        { name: 'FUNCTIONS_EXTENSION_VERSION', value: '~4' }
        { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'node' }
        { name: 'AzureWebJobsStorage', value: storageConnection }
        { name: 'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING', value: storageConnection }
        { name: 'WEBSITE_CONTENTSHARE', value: toLower(name) }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'COSMOS_ENDPOINT', value: cosmos.properties.documentEndpoint }
        { name: 'COSMOS_KEY', value: cosmos.listKeys().primaryMasterKey }
        { name: 'COSMOS_DATABASE', value: 'sluice' }
        { name: 'SLUICE_COMPUTE_TARGETS', value: computeTargets }
      ]
    }
  }
}

output functionAppName string = site.name
output apiBaseUrl string = 'https://${site.properties.defaultHostName}/api'
output storageAccountName string = storage.name
