#!/usr/bin/env bash
# Prints one "set_real_ip_from CIDR;" line for each of CloudFront's
# origin-facing address ranges, for conf/cloudfront.conf's
# MATCHER_CDN_RANGES file.  Reads AWS's ip-ranges.json from the file
# given, or downloads it.  Fails, printing nothing, when the list has no
# such range: a half-read list would make viewers' addresses wrong.
#
#   deploy/aws/cdn-ranges.sh > ranges.tmp && mv ranges.tmp ranges.conf
#   nginx -s reload
set -euo pipefail

url=https://ip-ranges.amazonaws.com/ip-ranges.json

if [ $# -gt 0 ]; then
    json=$(cat -- "$1")
else
    json=$(curl -fsS --max-time 30 "$url")
fi

printf '%s' "$json" | perl -MJSON::PP -e '
    my $doc = eval { JSON::PP->new->decode(do { local $/; <STDIN> }) };
    die "cdn-ranges: not an ip-ranges.json document\n"
        unless ref $doc eq "HASH";
    my @cidrs;
    for my $p (@{ $doc->{prefixes} // [] }) {
        next unless ($p->{service} // "") eq "CLOUDFRONT_ORIGIN_FACING";
        my $c = $p->{ip_prefix} // "";
        die "cdn-ranges: bad IPv4 range \"$c\"\n"
            unless $c =~ m{^\d{1,3}(?:\.\d{1,3}){3}/\d{1,2}$};
        push @cidrs, $c;
    }
    for my $p (@{ $doc->{ipv6_prefixes} // [] }) {
        next unless ($p->{service} // "") eq "CLOUDFRONT_ORIGIN_FACING";
        my $c = $p->{ipv6_prefix} // "";
        die "cdn-ranges: bad IPv6 range \"$c\"\n"
            unless $c =~ m{^[0-9A-Fa-f:]+/\d{1,3}$};
        push @cidrs, $c;
    }
    die "cdn-ranges: no CLOUDFRONT_ORIGIN_FACING range in the list\n"
        unless @cidrs;
    my %seen;
    print "# CloudFront origin-facing ranges (deploy/aws/cdn-ranges.sh)\n";
    print "set_real_ip_from $_;\n" for grep { !$seen{$_}++ } @cidrs;
'
