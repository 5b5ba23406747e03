"""The API under the account's own domain, when CustomDomainName and CertificateArn are given."""

from __future__ import annotations


def resources() -> dict:
    return {
        "ApiDomainName": {
            "Type": "AWS::ApiGateway::DomainName",
            "Condition": "HasCustomDomain",
            "Properties": {
                "DomainName": {"Ref": "CustomDomainName"},
                "RegionalCertificateArn": {"Ref": "CertificateArn"},
                "EndpointConfiguration": {"Types": ["REGIONAL"]},
                "SecurityPolicy": "TLS_1_2",
            },
        },
        # The domain's root is the API's stage: https://<domain>/v1/... ("RestAPI.Stage" is SAM's
        # reference to the stage it creates, which also orders the mapping after it).
        "ApiBasePathMapping": {
            "Type": "AWS::ApiGateway::BasePathMapping",
            "Condition": "HasCustomDomain",
            "Properties": {
                "DomainName": {"Ref": "ApiDomainName"},
                "RestApiId": {"Ref": "RestAPI"},
                "Stage": {"Ref": "RestAPI.Stage"},
            },
        },
    }


def outputs() -> dict:
    return {
        "PublicBaseUrl": {"Description": "The base of the links the functions send (PUBLIC_BASE_URL)",
                          "Value": {"Fn::If": ["HasPublicBaseUrl", {"Ref": "PublicBaseUrl"},
                                               {"Fn::If": ["HasCustomDomain", {"Fn::Sub": "https://${CustomDomainName}"},
                                                           "(none: make deploy sets the EndpointURL)"]}]}},
        "CustomDomainTarget": {
            "Condition": "HasCustomDomain",
            "Description": "Point CustomDomainName here: a CNAME, or a Route 53 alias with CustomDomainHostedZoneId",
            "Value": {"Fn::GetAtt": ["ApiDomainName", "RegionalDomainName"]}},
        "CustomDomainHostedZoneId": {
            "Condition": "HasCustomDomain",
            "Value": {"Fn::GetAtt": ["ApiDomainName", "RegionalHostedZoneId"]}},
    }
