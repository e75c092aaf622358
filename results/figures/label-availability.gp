# Personalised accuracy by label availability
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 1320,560 font "sans,10"
set encoding utf8
$m0c0 << EOD
-0.10500000000000001 77.2 14.397413975514262
0.895 77.2 19.840415333693418
1.895 88.7 8.089895958186409
2.895 91.7 8.541800035759625
3.895 92.7 8.313123609078284
EOD
$m0c1 << EOD
-0.10500000000000001 84.3 10.338297563355436
0.895 82.1 15.609943786414087
1.895 92.0 8.05886806765313
2.895 95.2 6.060668689729898
3.895 94.9 5.5424687619664965
EOD
$m0c2 << EOD
-0.10500000000000001 88.5 7.741752625047148
0.895 83.8 9.93913058145406
1.895 94.6 5.454849131699459
2.895 95.9 4.150762217781823
3.895 96.5 3.6465623268024547
EOD
$m0c3 << EOD
-0.10500000000000001 92.8 5.369389291059191
0.895 86.7 4.997601189356024
1.895 98.0 2.194972582712705
2.895 97.7 1.9924741961744543
3.895 98.1 1.6658670631186745
EOD
$m1c0 << EOD
-0.035 91.9 9.275155267244466
0.965 91.9 9.275155267244466
1.965 91.7 9.056489859319717
2.965 92.8 8.382381597919608
3.965 92.7 8.313123609078284
EOD
$m1c1 << EOD
-0.035 93.9 5.238586147325374
0.965 93.9 5.238586147325374
1.965 94.3 5.260612535210573
2.965 95.2 4.637577633622233
3.965 94.9 5.5424687619664965
EOD
$m1c2 << EOD
-0.035 95.1 3.9117342871188083
0.965 95.1 3.9117342871188083
1.965 95.6 3.8119286969725983
2.965 96.3 3.555584589398754
3.965 96.5 3.6465623268024547
EOD
$m1c3 << EOD
-0.035 95.0 3.724991994611289
0.965 95.0 3.724991994611289
1.965 95.6 3.08547882287147
2.965 97.2 2.3476973627059325
3.965 98.1 1.6658670631186745
EOD
$m2c0 << EOD
0.035 90.9 10.28971682523858
1.035 90.3 11.300165686765757
2.035 91.3 9.753189693103552
3.035 91.3 10.035610523069312
4.035 91.4 9.57169131410802
EOD
$m2c1 << EOD
0.035 94.1 6.152191385424216
1.035 94.0 6.331268956166625
2.035 94.4 6.136508995946598
3.035 95.0 5.358610981178656
4.035 95.1 5.347810948067987
EOD
$m2c2 << EOD
0.035 94.4 4.287787786480529
1.035 94.0 4.7281156420198345
2.035 95.7 4.292279969783248
3.035 95.8 3.6885990159059037
4.035 96.0 3.7763736217470623
EOD
$m2c3 << EOD
0.035 92.8 5.260612535210573
1.035 93.2 4.780809513749123
2.035 94.7 4.4897787260612585
3.035 95.7 3.1227294133583876
4.035 95.9 2.892037768263374
EOD
$m3c0 << EOD
0.10500000000000001 91.4 9.57169131410802
1.105 91.4 9.57169131410802
2.105 91.5 9.527293602914288
3.105 91.4 9.57169131410802
4.105 91.4 9.57169131410802
EOD
$m3c1 << EOD
0.10500000000000001 94.3 5.767392272656054
1.105 94.3 5.767392272656054
2.105 94.7 5.767392272656054
3.105 94.9 5.5250559989759385
4.105 95.1 5.347810948067987
EOD
$m3c2 << EOD
0.10500000000000001 94.4 4.836914814869753
1.105 94.4 4.836914814869753
2.105 95.0 4.666575721838163
3.105 95.4 4.354683990665093
4.105 96.0 3.7763736217470623
EOD
$m3c3 << EOD
0.10500000000000001 93.6 4.836914814869753
1.105 93.6 4.836914814869753
2.105 93.8 4.678948458679795
3.105 94.8 3.9411831416068694
4.105 95.9 2.892037768263374
EOD
set multiplot layout 1,4 title "Personalised accuracy by label availability"
set xtics ("0.0" 0, "0.01" 1, "0.1" 2, "0.5" 3, "1.0" 4)
set xrange [-0.4:4.4]
set grid ytics
set bmargin 8
set yrange [*:100]
set xlabel "labelled fraction of training samples"
set title "exit block2"
set ylabel "personalised test accuracy (%)"
set key outside bottom center horizontal
plot $m0c0 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 4 title "sup", \
     $m1c0 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 5 title "sup+selfsup", \
     $m2c0 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 6 title "sup+distill", \
     $m3c0 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 7 title "sup+selfsup+distill"
set title "exit block4"
unset ylabel
set key off
plot $m0c1 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 4 title "sup", \
     $m1c1 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 5 title "sup+selfsup", \
     $m2c1 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 6 title "sup+distill", \
     $m3c1 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 7 title "sup+selfsup+distill"
set title "exit block6"
unset ylabel
set key off
plot $m0c2 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 4 title "sup", \
     $m1c2 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 5 title "sup+selfsup", \
     $m2c2 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 6 title "sup+distill", \
     $m3c2 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 7 title "sup+selfsup+distill"
set title "exit block8"
unset ylabel
set key off
plot $m0c3 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 4 title "sup", \
     $m1c3 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 5 title "sup+selfsup", \
     $m2c3 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 6 title "sup+distill", \
     $m3c3 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 7 title "sup+selfsup+distill"
unset multiplot
