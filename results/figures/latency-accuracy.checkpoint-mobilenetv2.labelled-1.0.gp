# Accuracy, FLOPs and latency, data.checkpoint = mobilenetv2, data.labelled = 1.0
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 1200,560 font "sans,10"
set encoding utf8
$curve0 << EOD
16.17934824657116 79.05 0.24623831044895886 7.440800827425178
22.905656648846858 84.45 2.676587085463972 5.873506647169414
37.059596432951295 90.8 6.125950831221877 3.9729330840153056
44.577837660752145 92.0 7.48413539972045 3.2433019532600746
55.33322802345511 92.75 9.032704980331886 3.3606127792325395
64.568520256343 92.8 9.547395420779889 3.26165793894791
81.83864051849811 92.85 8.393637930062432 3.247900675465761
100.03272031449019 92.85 5.393021756528563 3.247900675465761
EOD
$curve1 << EOD
15.839302142854297 92.8 0.0 5.125892614942471
16.006533202427057 93.0 0.16510036395529534 4.789865173562803
19.955132232306674 96.0 3.5699279213195028 2.4780690133729246
23.549556287503698 97.25 5.889322854090303 1.628211964894871
28.69407934520485 97.35 7.845913819430839 1.5179694498400678
34.90534101244274 97.4 10.074718011668512 1.5156265414366443
49.03408836182477 96.3 12.826979631967749 1.8790888670170602
73.87868124340423 93.85 12.958612508034495 3.247900675465761
EOD
$full0 << EOD
100.0 92.85 0 3.247900675465761
EOD
$full1 << EOD
100.0 98.35 0 1.470402155818832
EOD
$ms0 << EOD
-0.12 0.2183 0.03217259749936366
0.88 3.0331 0.5453949369070161
1.88 0.7253999999999999 0.1321960293220468
2.88 1.1854 0.22436123956473497
3.88 2.5431 0.4966139391668086
EOD
$ms1 << EOD
0.12 0.26470000000000005 0.07606295788990869
1.12 2.8804 0.45533516954855247
2.12 0.78 0.0805771222062855
3.12 1.2546 0.1114443511339477
4.12 2.4952999999999994 0.6069191541677776
EOD
set multiplot layout 1,2 title "Accuracy, FLOPs and latency, data.checkpoint = mobilenetv2, data.labelled = 1.0"
set grid
set key outside bottom center horizontal
set bmargin 7
set title "accuracy against FLOPs over confidence thresholds"
set xlabel "mean FLOPs per sample (% of the full network)"
set ylabel "test accuracy (%)"
set xrange [0:105]
set yrange [*:100]
plot $curve0 using 1:2:3:4 with xyerrorlines linewidth 1.5 pointtype 6 title "global-exits", \
     $curve1 using 1:2:3:4 with xyerrorlines linewidth 1.5 pointtype 7 title "personalised-exits", \
     $full0 using 1:2:3:4 with xyerrorbars pointtype 5 pointsize 1.8 linewidth 2 title "global-full", \
     $full1 using 1:2:3:4 with xyerrorbars pointtype 9 pointsize 1.8 linewidth 2 title "fine-tuned-full"
set title "measured batch-1 latency per classifier (median of timed runs)"
set xlabel "classifier"
set ylabel "latency (ms)"
set xtics ("block2" 0, "final" 1, "block5" 2, "block10" 3, "block16" 4)
set xrange [-0.5:4.5]
set yrange [0:*]
plot $ms0 using 1:2:3 with yerrorbars pointtype 5 pointsize 1.2 linewidth 2 title "global", \
     $ms1 using 1:2:3 with yerrorbars pointtype 7 pointsize 1.2 linewidth 2 title "personalised"
unset multiplot
